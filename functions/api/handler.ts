// Placeholder until the pipeline lands; infra synthesizes against this entry point.
export const handler = async (): Promise<unknown> => ({ statusCode: 501 });
