// The demo's products. A real shop keeps them in D1 or KV; a module is enough for the demo.
export interface Product {
  id: string;
  name: string;
  price: number;
}

export const PRODUCTS: Product[] = [
  { id: "mug", name: "Stoneware mug", price: 18 },
  { id: "bowl", name: "Glazed bowl", price: 24 },
  { id: "vase", name: "Raku vase", price: 65 },
];

export type Cart = Record<string, number>;

export const cartCount = (cart: Cart | undefined): number => Object.values(cart ?? {}).reduce((a, b) => a + b, 0);
