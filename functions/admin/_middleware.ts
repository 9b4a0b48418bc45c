// The admin pages: only accounts with the admin role (the demo account has it).
export const access = { role: "admin" };
