import type { Handler } from "kiln";
import { ORDER_ID, orderKey, type OrdersEnv, type RecordedOrder } from "../lib/orders.ts";
import { visitor } from "../lib/page.ts";

/** An order, once the queue's consumer has recorded it; until then, a page that reloads itself. */
export const onRequestGet: Handler<"orders/[id].ts", OrdersEnv> = async ({ params, env, session, render }) => {
  const order = ORDER_ID.test(params.id) ? await env.ORDERS.get<RecordedOrder>(orderKey(params.id), "json") : null;
  return render("order.html", { ...(await visitor(session)), id: params.id, order }, { headers: order ? {} : { refresh: "2" } });
};
