// Product pictures, kept in R2 (binding PICTURES): uploaded by the admin, served at /products/:id/picture.

/** The part of an R2 bucket the demo uses (@cloudflare/workers-types has the whole R2Bucket). */
export interface PicturesEnv {
  PICTURES: {
    put(key: string, value: Blob, options: { httpMetadata: { contentType: string } }): Promise<unknown>;
    get(key: string): Promise<{ body: ReadableStream; httpEtag: string; httpMetadata?: { contentType?: string } } | null>;
    head(key: string): Promise<unknown>;
  };
}

export const pictureKey = (productId: string) => `products/${productId}`;

/** The picture types the shop takes, by their first bytes. SVG is not one: it can carry script. */
const SIGNATURES: [type: string, bytes: (number | undefined)[]][] = [
  ["image/png", [0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]],
  ["image/jpeg", [0xff, 0xd8, 0xff]],
  ["image/gif", [0x47, 0x49, 0x46, 0x38]],
  // RIFF....WEBP
  ["image/webp", [0x52, 0x49, 0x46, 0x46, undefined, undefined, undefined, undefined, 0x57, 0x45, 0x42, 0x50]],
];

export const PICTURE_TYPES = SIGNATURES.map(([type]) => type);

/** Whether the file's bytes are what its type says: a browser takes the type from the file name, which anyone can change. */
export async function isPicture(file: File): Promise<boolean> {
  const head = new Uint8Array(await file.slice(0, 12).arrayBuffer());
  const signature = SIGNATURES.find(([type]) => type === file.type)?.[1];
  return !!signature && signature.every((b, i) => b === undefined || head[i] === b);
}
