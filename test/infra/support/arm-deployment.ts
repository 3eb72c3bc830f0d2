import {
  type ArmObject,
  type ArmValue,
  type DeploymentTarget,
  type EvalScope,
  evaluateString,
  isObject,
  nameSegments,
  providerPath,
  resourceGroupId,
  RuntimeValue,
} from './arm-expression.js';

/**
 * A dry run of a compiled template: parameters, variables, copy loops, conditions and nested
 * module deployments are evaluated the way Azure Resource Manager would, without Azure. The result
 * is every resource instance the deployment would write, with its final id, scope and properties.
 * Both template shapes Bicep emits are read: resources as an array (languageVersion 1) and as an
 * object keyed by symbolic name (languageVersion 2.0, used once the template has user-defined types).
 */

export interface DeployedResource {
  /** Symbolic name (languageVersion 2.0) or the resource's position (1.0). */
  symbolicName: string;
  copyIndex?: number;
  type: string;
  name: string;
  id: string;
  /** Absolute id of the resource this extension resource (role assignment, ...) is attached to. */
  scope?: string;
  existing: boolean;
  /** The evaluated resource body: properties, sku, kind, identity, ... */
  body: ArmObject;
  properties: ArmObject;
  /** The loop settings as compiled: `{ mode: 'serial', batchSize: 1 }` for @batchSize(1). */
  copy?: ArmObject;
  /** Names of the module deployments this resource is nested in, outermost first. */
  modulePath: string[];
}

export interface DeploymentResult {
  resources: DeployedResource[];
  outputs: ArmObject;
}

export interface DryRunOptions {
  target: DeploymentTarget;
  /** Stand-ins for what Azure returns at deployment time, e.g. a namespace's serviceBusEndpoint. */
  runtimeProperties?: (resource: {
    type: string;
    id: string;
    name: string;
  }) => ArmObject | undefined;
}

type ResourceDefinition = ArmObject;

/** Evaluates a template with the given parameter values into the resources it would deploy. */
export function dryRun(
  template: ArmObject,
  parameters: ArmObject,
  options: DryRunOptions,
  modulePath: string[] = [],
): DeploymentResult {
  const parameterValues = new Map<string, ArmValue>();
  const variableValues = new Map<string, ArmValue>();
  const instances = new Map<string, DeployedResource[]>();
  const moduleResults = new Map<string, DeploymentResult>();
  const definitions = resourceDefinitions(template);
  const declaredParameters = (template.parameters ?? {}) as Record<string, ArmObject>;
  const declaredVariables = (template.variables ?? {}) as ArmObject;

  const baseScope: EvalScope = {
    deployment: options.target,
    parameter(name) {
      if (!parameterValues.has(name)) {
        const declared = declaredParameters[name];
        if (!declared) throw new Error(`no parameter ${name}`);
        if (name in parameters) parameterValues.set(name, parameters[name]!);
        else if ('defaultValue' in declared)
          parameterValues.set(name, deep(declared.defaultValue!, baseScope));
        else throw new Error(`parameter ${name} has no value and no default`);
      }
      return parameterValues.get(name)!;
    },
    variable(name) {
      if (!variableValues.has(name)) variableValues.set(name, evaluateVariable(name));
      return variableValues.get(name)!;
    },
    copyIndex() {
      throw new Error('copyIndex() outside a copy loop');
    },
    reference(target, full): ArmValue {
      const resource = resolve(target);
      if (resource.type === 'Microsoft.Resources/deployments') {
        const result = moduleResults.get(resource.id)!;
        const outputs: ArmObject = Object.fromEntries(
          Object.entries(result.outputs).map(([key, value]) => [key, { value }]),
        );
        const properties: ArmObject = { outputs };
        return full ? { properties } : properties;
      }
      const known = options.runtimeProperties?.(resource);
      if (known) return full ? { properties: known } : known;
      return new RuntimeValue(
        full ? `reference('${resource.id}', 'Full')` : `reference('${resource.id}')`,
      );
    },
  };

  function evaluateVariable(name: string): ArmValue {
    const loops = (declaredVariables.copy ?? []) as ArmObject[];
    const loop = loops.find((l) => l.name === name);
    if (loop) {
      const count = deep(loop.count!, baseScope) as number;
      return Array.from({ length: count }, (_v, i) =>
        deep(loop.input!, loopScope(baseScope, name, i)),
      );
    }
    if (!(name in declaredVariables)) throw new Error(`no variable ${name}`);
    return deep(declaredVariables[name]!, baseScope);
  }

  /** Finds the instance a reference() or symbolic name points at, deploying it first if needed. */
  function resolve(target: ArmValue): DeployedResource {
    if (typeof target !== 'string') throw new Error(`reference() to ${String(target)}`);
    if (target.startsWith('/')) {
      for (const symbolicName of definitions.keys()) {
        const found = instantiate(symbolicName).find(
          (r) => r.id.toLowerCase() === target.toLowerCase(),
        );
        if (found) return found;
      }
      throw new Error(`reference() to ${target}, which this template does not deploy`);
    }
    const match = /^(.+?)(?:\[(\d+)\])?$/.exec(target)!;
    const list = instantiate(match[1]!);
    const found =
      match[2] === undefined ? list[0] : list.find((r) => r.copyIndex === Number(match[2]));
    if (!found)
      throw new Error(`reference() to ${target}, which is not deployed with these parameters`);
    return found;
  }

  function instantiate(symbolicName: string): DeployedResource[] {
    const cached = instances.get(symbolicName);
    if (cached) return cached;
    const definition = definitions.get(symbolicName);
    if (!definition) throw new Error(`no resource ${symbolicName}`);
    instances.set(symbolicName, []); // a reference cycle then reads "not deployed"
    const copy = definition.copy as ArmObject | undefined;
    const count = copy ? (deep(copy.count!, baseScope) as number) : 1;
    const list: DeployedResource[] = [];
    for (let i = 0; i < count; i++) {
      const scope = copy ? loopScope(baseScope, String(copy.name), i) : baseScope;
      if ('condition' in definition && deep(definition.condition!, scope) !== true) continue;
      list.push(instance(symbolicName, definition, scope, copy ? i : undefined));
    }
    instances.set(symbolicName, list);
    return list;
  }

  function instance(
    symbolicName: string,
    definition: ResourceDefinition,
    scope: EvalScope,
    copyIndex: number | undefined,
  ): DeployedResource {
    const type = String(definition.type);
    const isModule = type === 'Microsoft.Resources/deployments';
    const body: ArmObject = {};
    for (const [key, value] of Object.entries(definition)) {
      if (['copy', 'condition', 'dependsOn', 'type', 'apiVersion'].includes(key)) continue;
      if (isModule && key === 'properties') continue;
      body[key] = deep(value, scope);
    }
    const name = String(body.name);
    const scopeId =
      typeof body.scope === 'string' ? absolute(body.scope, options.target) : undefined;
    const id = scopeId
      ? `${scopeId}/${providerPath(type, nameSegments(name))}`
      : `${resourceGroupId(options.target)}/${providerPath(type, nameSegments(name))}`;
    let properties = isObject(body.properties) ? body.properties : {};
    if (isModule) {
      const moduleProperties = definition.properties as ArmObject;
      if ('resourceGroup' in definition || 'subscriptionId' in definition) {
        throw new Error(
          `module ${name}: deployments to another scope are not supported by this dry run`,
        );
      }
      const evaluation = (moduleProperties.expressionEvaluationOptions as ArmObject | undefined)
        ?.scope;
      if (evaluation !== 'inner')
        throw new Error(`module ${name}: only inner-scoped templates are supported`);
      const parameterObject = deep(moduleProperties.parameters ?? {}, scope) as Record<
        string,
        ArmValue
      >;
      const values: ArmObject = {};
      for (const [key, wrapper] of Object.entries(parameterObject)) {
        values[key] = isObject(wrapper) && 'value' in wrapper ? wrapper.value! : null;
      }
      moduleResults.set(
        id,
        dryRun(moduleProperties.template as ArmObject, values, options, [...modulePath, name]),
      );
      properties = { parameters: values };
    }
    return {
      symbolicName,
      ...(copyIndex === undefined ? {} : { copyIndex }),
      type,
      name,
      id,
      ...(scopeId ? { scope: scopeId } : {}),
      existing: definition.existing === true,
      body,
      properties,
      ...(definition.copy ? { copy: definition.copy as ArmObject } : {}),
      modulePath,
    };
  }

  const resources: DeployedResource[] = [];
  for (const symbolicName of definitions.keys()) {
    for (const resource of instantiate(symbolicName)) {
      resources.push(resource);
      const nested = moduleResults.get(resource.id);
      if (nested) resources.push(...nested.resources);
    }
  }
  const outputs: ArmObject = {};
  for (const [name, output] of Object.entries(
    (template.outputs ?? {}) as Record<string, ArmObject>,
  )) {
    if ('condition' in output && deep(output.condition!, baseScope) !== true) continue;
    const loop = output.copy as ArmObject | undefined;
    outputs[name] = loop
      ? Array.from({ length: deep(loop.count!, baseScope) as number }, (_v, i) =>
          deep(loop.input!, loopScope(baseScope, name, i)),
        )
      : deep(output.value ?? null, baseScope);
  }
  return { resources, outputs };
}

function resourceDefinitions(template: ArmObject): Map<string, ResourceDefinition> {
  const resources = template.resources ?? [];
  if (Array.isArray(resources)) {
    return new Map(resources.map((r, i) => [String(i), r as ResourceDefinition]));
  }
  return new Map(Object.entries(resources as Record<string, ResourceDefinition>));
}

function loopScope(scope: EvalScope, loop: string, index: number): EvalScope {
  return {
    ...scope,
    copyIndex(name) {
      if (name !== undefined && name !== loop)
        throw new Error(`copyIndex('${name}') inside loop ${loop}`);
      return index;
    },
  };
}

/** Bicep may emit a scope relative to the resource group ("Microsoft.X/y/name"). */
function absolute(scope: string, target: DeploymentTarget): string {
  return scope.startsWith('/') ? scope : `${resourceGroupId(target)}/providers/${scope}`;
}

/** Evaluates every template string inside a value. */
function deep(value: ArmValue, scope: EvalScope): ArmValue {
  if (typeof value === 'string') return evaluateString(value, scope);
  if (Array.isArray(value)) return value.map((item) => deep(item, scope));
  if (isObject(value)) {
    return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, deep(v, scope)]));
  }
  return value;
}

/** Every resource of a type that the deployment writes (not `existing` references). */
export function created(result: DeploymentResult, type: string): DeployedResource[] {
  return result.resources.filter((r) => !r.existing && r.type.toLowerCase() === type.toLowerCase());
}

/** The only resource of a type that the deployment writes. */
export function single(result: DeploymentResult, type: string): DeployedResource {
  const found = created(result, type);
  if (found.length !== 1) throw new Error(`expected one ${type}, found ${found.length}`);
  return found[0]!;
}

/** How a value from reference() reads: `reference('<id>').<path>`. */
export function runtimeReference(id: string, path: string): RuntimeValue {
  return new RuntimeValue(`reference('${id}').${path}`);
}
