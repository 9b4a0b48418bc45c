// The posted form of a request, or undefined when its body is not a form
// (JSON, text/plain, a multipart body without its boundary, a cut-off
// upload): the caller answers 400 rather than letting the parse throw a 500.
export async function postedForm(request: Request): Promise<FormData | undefined> {
  try {
    return await request.formData();
  } catch {
    return undefined;
  }
}

export const notAForm = () => new Response("The request's body is not the form this page expects.\n", { status: 400 });
