// Orders: the checkout sends each to the ORDER_QUEUE queue, and the consumer in
// functions/_worker.ts records it in the ORDERS KV namespace.

export interface OrderLine {
  id: string;
  name: string;
  price: number;
  quantity: number;
}

export interface Order {
  id: string;
  lines: OrderLine[];
  total: number;
  placedAt: string;
}

/** What the consumer keeps: the order, and the confirmation email it wrote for it. */
export interface RecordedOrder extends Order {
  confirmation: string;
}

/** The queue and the order book, as `wrangler types` would type them in an app (Queue<Order>, KVNamespace). */
export interface OrdersEnv {
  ORDER_QUEUE: { send(order: Order): Promise<void> };
  ORDERS: { get<T>(key: string, type: "json"): Promise<T | null>; put(key: string, value: string): Promise<void> };
}

/** crypto.randomUUID()'s form: anything else is not looked up. */
export const ORDER_ID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

export const orderKey = (id: string): string => `order:${id}`;
