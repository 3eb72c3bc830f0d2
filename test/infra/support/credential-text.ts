import { type ArmObject, isObject, show } from './arm-expression.js';
import { type DeploymentResult, created, runtimeReference } from './arm-deployment.js';

/**
 * What a credential looks like in a compiled template: a connection string, an account key, a SAS,
 * or a list*() call that fetches one at deployment time.
 */
const CREDENTIAL_TEXT =
  /connectionString|AccountKey=|SharedAccessKey|SharedAccessSignature|primaryKey|primaryMasterKey/i;
const LIST_CALL = /\blist[A-Z]\w*\(/;

/**
 * The one connection string the templates may output, by name (main.bicep and monitoring.bicep):
 * Application Insights'. It holds an instrumentation key and endpoints, and with the component's
 * local auth disabled ingestion takes an Entra token of a principal with Monitoring Metrics
 * Publisher, so it says where telemetry goes and authorizes nothing
 * (https://learn.microsoft.com/azure/azure-monitor/app/azure-ad-authentication).
 */
export const APPLICATION_INSIGHTS_OUTPUT = 'applicationInsightsConnectionString';
const APPLICATION_INSIGHTS = 'Microsoft.Insights/components';

/** The template less the allowed output, in it and in every module it nests. */
function withoutAllowedOutput(template: ArmObject): ArmObject {
  const copy = structuredClone(template);
  const visit = (t: ArmObject) => {
    if (isObject(t.outputs)) delete t.outputs[APPLICATION_INSIGHTS_OUTPUT];
    for (const resource of Object.values((t.resources ?? {}) as Record<string, ArmObject>)) {
      const nested = isObject(resource.properties) ? resource.properties.template : undefined;
      if (resource.type === 'Microsoft.Resources/deployments' && isObject(nested)) visit(nested);
    }
  };
  visit(copy);
  return copy;
}

/** Every credential-like text of the compiled files, the allowed output aside. */
export function credentialTextProblems(texts: ReadonlyMap<string, string>): string[] {
  const problems: string[] = [];
  for (const [file, text] of texts) {
    const list = LIST_CALL.exec(text);
    if (list) problems.push(`${file}: calls ${list[0]}`);
    const rest = JSON.stringify(withoutAllowedOutput(JSON.parse(text) as ArmObject));
    const found = CREDENTIAL_TEXT.exec(rest);
    if (found) {
      const around = rest.slice(Math.max(0, found.index - 80), found.index + 80);
      problems.push(`${file}: '${found[0]}' in …${around}…`);
    }
  }
  return problems;
}

/**
 * The allowed output is exactly the component's own connection setting, and the component admits
 * Entra-authenticated telemetry only: under that name nothing else can leave the deployment.
 */
export function applicationInsightsOutputProblems(result: DeploymentResult): string[] {
  const components = created(result, APPLICATION_INSIGHTS);
  if (components.length !== 1) return [`${components.length} ${APPLICATION_INSIGHTS}, want 1`];
  const component = components[0]!;
  const problems: string[] = [];
  if (component.properties.DisableLocalAuth !== true) {
    problems.push(
      `${component.id}: DisableLocalAuth is not true, so its key would admit telemetry`,
    );
  }
  const want = show(runtimeReference(component.id, 'ConnectionString'));
  const got = show(result.outputs[APPLICATION_INSIGHTS_OUTPUT] ?? null);
  if (got !== want) problems.push(`output ${APPLICATION_INSIGHTS_OUTPUT} is ${got}, want ${want}`);
  return problems;
}
