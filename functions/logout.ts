import { logout, type Handler } from "kiln";

// Logging out ends the session: the record is deleted, the cookie cleared, the cart emptied.
export const onRequestPost: Handler = async (context) => {
  await logout(context);
  return new Response(null, { status: 303, headers: { location: "/" } });
};
