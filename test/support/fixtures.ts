/** The control-plane steps most tests start with, spoken over real HTTP like any client. */
import { gql } from './clients.js';
import { TEST_ADMIN } from './services.js';

/** Signs the test owner in; returns the `rt_session=…` cookie to send back. */
export async function signInOwner(url: string): Promise<string> {
  const response = await gql(url, `mutation($email: String!, $password: String!) { signIn(email: $email, password: $password) { id } }`, TEST_ADMIN);
  const cookie = response.setCookie.find((c) => c.startsWith('rt_session='));
  if (!cookie) throw new Error(`sign-in failed: ${JSON.stringify(response.errors)}`);
  return cookie.split(';')[0] as string;
}

export async function createApplication(url: string, cookie: string, name = 'Test'): Promise<string> {
  const response = await gql<{ createApplication: { id: string } }>(url, `mutation($name: String!) { createApplication(input: { name: $name }) { id } }`, { name }, { cookie });
  if (!response.data) throw new Error(JSON.stringify(response.errors));
  return response.data.createApplication.id;
}

/** Creates an API key and returns its secret. */
export async function createKey(url: string, cookie: string, app: string, kind: 'PUBLISHABLE' | 'SECRET', environment = 'DEV'): Promise<string> {
  const response = await gql<{ createApiKey: { secret: string } }>(
    url,
    `mutation($app: ID!, $env: EnvironmentName!, $kind: ApiKeyKind!) { createApiKey(input: { applicationId: $app, environment: $env, kind: $kind }) { secret } }`,
    { app, env: environment, kind },
    { cookie },
  );
  if (!response.data) throw new Error(JSON.stringify(response.errors));
  return response.data.createApiKey.secret;
}

/** A signed-in owner with one application and a publishable and a secret key for its DEV environment. */
export async function ownerWithApplication(url: string, name = 'Test'): Promise<{ cookie: string; app: string; pk: string; sk: string }> {
  const cookie = await signInOwner(url);
  const app = await createApplication(url, cookie, name);
  return { cookie, app, pk: await createKey(url, cookie, app, 'PUBLISHABLE'), sk: await createKey(url, cookie, app, 'SECRET') };
}
