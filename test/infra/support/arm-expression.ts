import { createHash } from 'node:crypto';

/**
 * The ARM template expression language (`"[format('{0}', parameters('x'))]"`), parsed and
 * evaluated far enough to read what a compiled Bicep template will do: which scope a role
 * assignment lands on, which issuer a federated credential names. Values only Azure knows at
 * deployment time (a principal id, the cluster's issuer URL) stay symbolic as {@link RuntimeValue}s
 * that remember where they come from. An unknown function throws: a template that outgrows this
 * evaluator fails the tests rather than passing them unread.
 */

/** A value Azure computes during the deployment, kept as the expression that yields it. */
export class RuntimeValue {
  constructor(readonly expression: string) {}
  toString(): string {
    return `{${this.expression}}`;
  }
}

export interface ArmLambda {
  readonly kind: 'lambda';
  readonly params: string[];
  readonly body: Node;
  readonly scope: EvalScope;
}

export type ArmValue =
  | string
  | number
  | boolean
  | null
  | ArmValue[]
  | { [key: string]: ArmValue }
  | RuntimeValue
  | ArmLambda;

export type ArmObject = { [key: string]: ArmValue };

type Node =
  | { kind: 'string'; value: string }
  | { kind: 'number'; value: number }
  | { kind: 'call'; name: string; args: Node[] }
  | { kind: 'property'; target: Node; name: string }
  | { kind: 'index'; target: Node; index: Node };

/** What an expression can see: the template's parameters and variables, loops, and the deployment. */
export interface EvalScope {
  parameter(name: string): ArmValue;
  variable(name: string): ArmValue;
  copyIndex(loop?: string): number;
  reference(target: ArmValue, full: boolean): ArmValue;
  readonly deployment: DeploymentTarget;
  readonly lambdaVariables?: ReadonlyMap<string, ArmValue>;
}

/** The subscription, resource group and tenant the evaluation pretends to deploy into. */
export interface DeploymentTarget {
  subscriptionId: string;
  resourceGroup: string;
  location: string;
  tenantId: string;
  /** Returns a fresh stand-in for each newGuid() call. */
  newGuid(): string;
}

/** True for a template string that holds an expression; `[[` escapes a literal bracket. */
export function isExpression(text: string): boolean {
  return text.startsWith('[') && !text.startsWith('[[') && text.endsWith(']');
}

/** Evaluates a template string: an expression, or a literal (with `[[` unescaped). */
export function evaluateString(text: string, scope: EvalScope): ArmValue {
  if (text.startsWith('[[')) return text.slice(1);
  if (!isExpression(text)) return text;
  return evaluate(parse(text.slice(1, -1)), scope);
}

export function parse(source: string): Node {
  let pos = 0;
  const fail = (what: string): never => {
    throw new Error(`ARM expression: ${what} at ${pos} in ${source}`);
  };
  const skipSpace = () => {
    while (pos < source.length && /\s/.test(source[pos]!)) pos++;
  };
  const identifier = (): string => {
    const match = /^[A-Za-z_$][\w$]*/.exec(source.slice(pos));
    if (!match) fail('expected an identifier');
    pos += match![0].length;
    return match![0];
  };
  const primary = (): Node => {
    skipSpace();
    const ch = source[pos];
    if (ch === "'") {
      let value = '';
      pos++;
      for (;;) {
        if (pos >= source.length) fail('unterminated string');
        if (source[pos] === "'") {
          if (source[pos + 1] === "'") {
            value += "'";
            pos += 2;
            continue;
          }
          pos++;
          return { kind: 'string', value };
        }
        value += source[pos++];
      }
    }
    const number = /^-?\d+/.exec(source.slice(pos));
    if (number) {
      pos += number[0].length;
      return { kind: 'number', value: Number(number[0]) };
    }
    const name = identifier();
    skipSpace();
    if (source[pos] !== '(') fail(`expected ( after ${name}`);
    pos++;
    const args: Node[] = [];
    skipSpace();
    if (source[pos] === ')') pos++;
    else {
      for (;;) {
        args.push(expression());
        skipSpace();
        if (source[pos] === ',') pos++;
        else if (source[pos] === ')') {
          pos++;
          break;
        } else fail('expected , or )');
      }
    }
    return { kind: 'call', name, args };
  };
  const expression = (): Node => {
    let node = primary();
    for (;;) {
      skipSpace();
      if (source[pos] === '.') {
        pos++;
        node = { kind: 'property', target: node, name: identifier() };
      } else if (source[pos] === '[') {
        pos++;
        const index = expression();
        skipSpace();
        if (source[pos] !== ']') fail('expected ]');
        pos++;
        node = { kind: 'index', target: node, index };
      } else return node;
    }
  };
  const node = expression();
  skipSpace();
  if (pos !== source.length) fail('unexpected trailing text');
  return node;
}

export function isRuntime(value: ArmValue): boolean {
  if (value instanceof RuntimeValue) return true;
  if (Array.isArray(value)) return value.some(isRuntime);
  return isObject(value) && Object.values(value).some(isRuntime);
}

export function isObject(value: ArmValue | undefined): value is ArmObject {
  return (
    typeof value === 'object' &&
    value !== null &&
    !Array.isArray(value) &&
    !(value instanceof RuntimeValue) &&
    (value as { kind?: unknown }).kind !== 'lambda'
  );
}

/** How a value reads inside a runtime expression. */
export function show(value: ArmValue): string {
  if (value instanceof RuntimeValue) return value.expression;
  if (typeof value === 'string') return `'${value}'`;
  return JSON.stringify(value, replacer) ?? 'null';
}

function replacer(_key: string, value: unknown): unknown {
  return value instanceof RuntimeValue ? value.toString() : value;
}

export function evaluate(node: Node, scope: EvalScope): ArmValue {
  switch (node.kind) {
    case 'string':
    case 'number':
      return node.value;
    case 'property': {
      const target = evaluate(node.target, scope);
      return member(target, node.name);
    }
    case 'index': {
      const target = evaluate(node.target, scope);
      const index = evaluate(node.index, scope);
      if (typeof index !== 'number' && typeof index !== 'string') {
        throw new Error(`ARM expression: cannot index with ${show(index)}`);
      }
      return member(target, index);
    }
    case 'call':
      return call(node, scope);
  }
}

function member(target: ArmValue, key: string | number): ArmValue {
  if (target instanceof RuntimeValue) {
    return new RuntimeValue(
      typeof key === 'number' ? `${target.expression}[${key}]` : `${target.expression}.${key}`,
    );
  }
  if (Array.isArray(target) && typeof key === 'number') {
    if (key < 0 || key >= target.length)
      throw new Error(`ARM expression: index ${key} out of range`);
    return target[key]!;
  }
  if (isObject(target) && typeof key === 'string') {
    // ARM property names are case-insensitive.
    const found = Object.keys(target).find((k) => k.toLowerCase() === key.toLowerCase());
    if (found === undefined)
      throw new Error(`ARM expression: no property ${key} in ${show(target)}`);
    return target[found]!;
  }
  throw new Error(`ARM expression: cannot read ${key} of ${show(target)}`);
}

function call(node: Extract<Node, { kind: 'call' }>, scope: EvalScope): ArmValue {
  const name = node.name.toLowerCase();
  // Forms that must not evaluate every argument first.
  if (name === 'if') {
    const condition = evaluate(node.args[0]!, scope);
    if (typeof condition !== 'boolean') {
      throw new Error(
        `ARM expression: if() on a value only known at deployment: ${show(condition)}`,
      );
    }
    return evaluate(node.args[condition ? 1 : 2]!, scope);
  }
  if (name === 'lambda') {
    const params = node.args.slice(0, -1).map((arg) => {
      if (arg.kind !== 'string')
        throw new Error('ARM expression: lambda parameter names are strings');
      return arg.value;
    });
    return { kind: 'lambda', params, body: node.args[node.args.length - 1]!, scope };
  }
  const args = node.args.map((arg) => evaluate(arg, scope));
  const fn = functions[name];
  if (!fn)
    throw new Error(`ARM expression: function ${node.name}() is not supported by this evaluator`);
  if (!structural.has(name) && args.some(isRuntime)) {
    return new RuntimeValue(`${node.name}(${args.map(show).join(', ')})`);
  }
  return fn(args, scope);
}

/** Functions that only carry runtime values along instead of computing with them. */
const structural = new Set([
  'createobject',
  'createarray',
  'union',
  'coalesce',
  'parameters',
  'variables',
  'reference',
  'map',
  'filter',
  'flatten',
  'length',
  'range',
  'items',
  'trygetvalue',
  'tryget',
  'lambdavariables',
  'first',
  'last',
  'reduce',
  'toobject',
  // format() embeds a runtime value as `{expression}`, so that a name like
  // 'account/{guid(...)}' still splits into its segments.
  'format',
]);

type ArmFunction = (args: ArmValue[], scope: EvalScope) => ArmValue;

const str = (value: ArmValue | undefined, fn: string): string => {
  if (typeof value !== 'string')
    throw new Error(`ARM expression: ${fn}() wants a string, got ${show(value ?? null)}`);
  return value;
};
const arr = (value: ArmValue | undefined, fn: string): ArmValue[] => {
  if (!Array.isArray(value))
    throw new Error(`ARM expression: ${fn}() wants an array, got ${show(value ?? null)}`);
  return value;
};
const lambda = (value: ArmValue | undefined, fn: string): ArmLambda => {
  if (!value || typeof value !== 'object' || (value as ArmLambda).kind !== 'lambda') {
    throw new Error(`ARM expression: ${fn}() wants a lambda`);
  }
  return value as ArmLambda;
};

function invoke(fn: ArmLambda, ...values: ArmValue[]): ArmValue {
  const variables = new Map(fn.scope.lambdaVariables ?? []);
  fn.params.forEach((param, i) => variables.set(param, values[i] ?? null));
  return evaluate(fn.body, { ...fn.scope, lambdaVariables: variables });
}

function equalValues(a: ArmValue, b: ArmValue): boolean {
  if (typeof a === 'string' && typeof b === 'string') return a.toLowerCase() === b.toLowerCase();
  return JSON.stringify(a) === JSON.stringify(b);
}

/** Deterministic stand-in for uniqueString(): 13 lowercase characters, like the real one. */
export function fakeUniqueString(...parts: string[]): string {
  const digest = createHash('sha256').update(parts.join('|')).digest();
  const alphabet = 'abcdefghijklmnopqrstuvwxyz234567';
  return Array.from(digest.subarray(0, 13), (byte) => alphabet[byte % 32]).join('');
}

/** Deterministic stand-in for guid(): same inputs, same GUID. */
export function fakeGuid(...parts: string[]): string {
  const hex = createHash('sha256').update(parts.join('|')).digest('hex');
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20, 32)}`;
}

/** Splits a resource name into segments at the slashes outside `{runtime expressions}`. */
export function nameSegments(name: string): string[] {
  const segments = [''];
  let depth = 0;
  for (const ch of name) {
    if (ch === '{') depth++;
    if (ch === '}') depth--;
    if (ch === '/' && depth === 0) segments.push('');
    else segments[segments.length - 1] += ch;
  }
  return segments;
}

/** `Microsoft.X/a/b` + [n1, n2] → `providers/Microsoft.X/a/n1/b/n2`. */
export function providerPath(type: string, names: string[]): string {
  const [namespace, ...types] = type.split('/');
  if (types.length !== names.length) {
    throw new Error(
      `ARM expression: ${type} needs ${types.length} name segments, got ${names.join('/')}`,
    );
  }
  return `providers/${namespace}/${types.map((t, i) => `${t}/${names[i]}`).join('/')}`;
}

export function resourceGroupId(target: DeploymentTarget): string {
  return `/subscriptions/${target.subscriptionId}/resourceGroups/${target.resourceGroup}`;
}

/** Splits resourceId()'s optional leading subscription / group arguments from type and names. */
function typeAndNames(
  args: ArmValue[],
  fn: string,
): { before: string[]; type: string; names: string[] } {
  const strings = args.map((arg) => str(arg, fn));
  const typeIndex = strings.findIndex((s) => /^[A-Za-z0-9]+(\.[A-Za-z0-9]+)+\//.test(s));
  if (typeIndex < 0) throw new Error(`ARM expression: ${fn}() without a resource type`);
  return {
    before: strings.slice(0, typeIndex),
    type: strings[typeIndex]!,
    names: strings.slice(typeIndex + 1),
  };
}

const functions: Record<string, ArmFunction> = {
  parameters: ([name], scope) => scope.parameter(str(name, 'parameters')),
  variables: ([name], scope) => scope.variable(str(name, 'variables')),
  copyindex: ([loopOrOffset, offset], scope) =>
    typeof loopOrOffset === 'string'
      ? scope.copyIndex(loopOrOffset) + (typeof offset === 'number' ? offset : 0)
      : scope.copyIndex() + (typeof loopOrOffset === 'number' ? loopOrOffset : 0),
  lambdavariables: ([name], scope) => {
    const key = str(name, 'lambdaVariables');
    if (!scope.lambdaVariables?.has(key))
      throw new Error(`ARM expression: no lambda variable ${key}`);
    return scope.lambdaVariables.get(key)!;
  },
  reference: ([target, , full], scope) =>
    scope.reference(target ?? null, typeof full === 'string' && full.toLowerCase() === 'full'),
  resourcegroup: (_args, scope) => ({
    id: resourceGroupId(scope.deployment),
    name: scope.deployment.resourceGroup,
    location: scope.deployment.location,
  }),
  subscription: (_args, scope) => ({
    id: `/subscriptions/${scope.deployment.subscriptionId}`,
    subscriptionId: scope.deployment.subscriptionId,
    tenantId: scope.deployment.tenantId,
  }),
  tenant: (_args, scope) => ({ tenantId: scope.deployment.tenantId }),
  // The public cloud's values of what the templates read.
  environment: () => ({
    name: 'AzureCloud',
    suffixes: { storage: 'core.windows.net', keyvaultDns: '.vault.azure.net' },
  }),
  resourceid: (args, scope) => {
    const { before, type, names } = typeAndNames(args, 'resourceId');
    const subscription = before.length === 2 ? before[0]! : scope.deployment.subscriptionId;
    const group = before.length >= 1 ? before[before.length - 1]! : scope.deployment.resourceGroup;
    return `/subscriptions/${subscription}/resourceGroups/${group}/${providerPath(type, names)}`;
  },
  subscriptionresourceid: (args, scope) => {
    const { before, type, names } = typeAndNames(args, 'subscriptionResourceId');
    return `/subscriptions/${before[0] ?? scope.deployment.subscriptionId}/${providerPath(type, names)}`;
  },
  tenantresourceid: (args) => {
    const { type, names } = typeAndNames(args, 'tenantResourceId');
    return `/${providerPath(type, names)}`;
  },
  extensionresourceid: ([scopeId, ...rest]) => {
    const { type, names } = typeAndNames(rest, 'extensionResourceId');
    return `${str(scopeId, 'extensionResourceId')}/${providerPath(type, names)}`;
  },
  newguid: (_args, scope) => scope.deployment.newGuid(),
  guid: (args) => fakeGuid(...args.map((arg) => str(arg, 'guid'))),
  uniquestring: (args) => fakeUniqueString(...args.map((arg) => str(arg, 'uniqueString'))),
  format: ([template, ...args]) =>
    str(template, 'format').replace(/\{(\d+)(:[^}]*)?\}/g, (_m, i: string) => {
      const value = args[Number(i)];
      if (value instanceof RuntimeValue) return value.toString();
      return typeof value === 'string' ? value : JSON.stringify(value ?? null);
    }),
  concat: (args) =>
    args.every(Array.isArray)
      ? (args as ArmValue[][]).flat()
      : args.map((arg) => (typeof arg === 'string' ? arg : JSON.stringify(arg))).join(''),
  replace: ([text, from, to]) =>
    str(text, 'replace').split(str(from, 'replace')).join(str(to, 'replace')),
  join: ([array, separator]) =>
    arr(array, 'join')
      .map((item) => str(item, 'join'))
      .join(str(separator, 'join')),
  split: ([text, separator]) => str(text, 'split').split(str(separator, 'split')),
  tolower: ([text]) => str(text, 'toLower').toLowerCase(),
  toupper: ([text]) => str(text, 'toUpper').toUpperCase(),
  string: ([value]) => (typeof value === 'string' ? value : JSON.stringify(value)),
  int: ([value]) => Number(value),
  bool: ([value]) => (typeof value === 'string' ? value.toLowerCase() === 'true' : Boolean(value)),
  length: ([value]) => {
    if (typeof value === 'string' || Array.isArray(value)) return value.length;
    if (isObject(value)) return Object.keys(value).length;
    throw new Error(`ARM expression: length() of ${show(value ?? null)}`);
  },
  empty: ([value]) =>
    value === null ||
    value === '' ||
    (Array.isArray(value) && value.length === 0) ||
    (isObject(value) && Object.keys(value).length === 0),
  equals: ([a, b]) => equalValues(a ?? null, b ?? null),
  not: ([value]) => !value,
  and: (args) => args.every(Boolean),
  or: (args) => args.some(Boolean),
  true: () => true,
  false: () => false,
  null: () => null,
  coalesce: (args) => args.find((arg) => arg !== null) ?? null,
  createobject: (args) => {
    const object: ArmObject = {};
    for (let i = 0; i < args.length; i += 2)
      object[str(args[i], 'createObject')] = args[i + 1] ?? null;
    return object;
  },
  createarray: (args) => args,
  union: (args) =>
    args.every(Array.isArray)
      ? [...new Set((args as ArmValue[][]).flat())]
      : Object.assign({}, ...args.map((arg) => arg as ArmObject)),
  contains: ([container, item]) => {
    if (typeof container === 'string')
      return container.toLowerCase().includes(str(item, 'contains').toLowerCase());
    if (Array.isArray(container)) return container.some((c) => equalValues(c, item ?? null));
    return isObject(container) && Object.keys(container).some((k) => equalValues(k, item ?? null));
  },
  tryget: ([value, ...keys]) => {
    let current: ArmValue = value ?? null;
    for (const key of keys) {
      if (current instanceof RuntimeValue) return member(current, key as string | number);
      if (Array.isArray(current) && typeof key === 'number') current = current[key] ?? null;
      else if (isObject(current) && typeof key === 'string') {
        const found = Object.keys(current).find((k) => k.toLowerCase() === key.toLowerCase());
        current = found === undefined ? null : current[found]!;
      } else return null;
    }
    return current;
  },
  range: ([start, count]) => Array.from({ length: Number(count) }, (_v, i) => Number(start) + i),
  first: ([value]) => (Array.isArray(value) ? (value[0] ?? null) : str(value, 'first').slice(0, 1)),
  last: ([value]) =>
    Array.isArray(value) ? (value[value.length - 1] ?? null) : str(value, 'last').slice(-1),
  items: ([value]) => {
    if (!isObject(value)) throw new Error('ARM expression: items() wants an object');
    return Object.keys(value)
      .sort((a, b) => a.localeCompare(b))
      .map((key) => ({ key, value: value[key]! }));
  },
  map: ([array, fn]) => arr(array, 'map').map((item, i) => invoke(lambda(fn, 'map'), item, i)),
  filter: ([array, fn]) =>
    arr(array, 'filter').filter((item, i) => {
      const keep = invoke(lambda(fn, 'filter'), item, i);
      if (typeof keep !== 'boolean') {
        throw new Error(
          `ARM expression: filter() predicate only known at deployment: ${show(keep)}`,
        );
      }
      return keep;
    }),
  flatten: ([array]) => arr(array, 'flatten').flatMap((item) => arr(item, 'flatten')),
  reduce: ([array, initial, fn]) =>
    arr(array, 'reduce').reduce<ArmValue>(
      (accumulated, item, i) => invoke(lambda(fn, 'reduce'), accumulated, item, i),
      initial ?? null,
    ),
  toobject: ([array, keyFn, valueFn]) =>
    Object.fromEntries(
      arr(array, 'toObject').map((item) => [
        str(invoke(lambda(keyFn, 'toObject'), item), 'toObject'),
        valueFn === undefined ? item : invoke(lambda(valueFn, 'toObject'), item),
      ]),
    ),
  // ARM's integer arithmetic: div and mod truncate toward zero, like C#.
  div: ([a, b]) => Math.trunc(num(a, 'div') / num(b, 'div')),
  mod: ([a, b]) => num(a, 'mod') % num(b, 'mod'),
};

function num(value: ArmValue | undefined, fn: string): number {
  if (typeof value !== 'number') throw new Error(`ARM expression: ${fn}() wants integers`);
  return value;
}
