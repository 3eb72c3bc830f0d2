import { describe, expect, it } from 'vitest';
import {
  type ArmValue,
  type EvalScope,
  evaluateString,
  RuntimeValue,
} from './support/arm-expression.js';
import { dryRun } from './support/arm-deployment.js';
import { testTarget } from './support/infra-deployment.js';

// The evaluator the infra tests read compiled templates with: if it misread ARM, those tests
// would check the wrong thing. No Bicep CLI needed.

function scope(parameters: Record<string, ArmValue> = {}): EvalScope {
  return {
    deployment: testTarget(),
    parameter: (name) => parameters[name]!,
    variable: () => {
      throw new Error('no variables');
    },
    copyIndex: () => 2,
    reference: (target) => new RuntimeValue(`reference('${String(target)}')`),
  };
}

describe('the ARM expression evaluator used by the infra tests', () => {
  it('evaluates strings, escapes, format, nested calls and property access', () => {
    expect(evaluateString('plain', scope())).toBe('plain');
    expect(evaluateString('[[not an expression]', scope())).toBe('[not an expression]');
    expect(evaluateString("[format('{0}-{1}', 'a', parameters('p'))]", scope({ p: "it''s" }))).toBe(
      "a-it''s",
    );
    expect(evaluateString("['it''s']", scope())).toBe("it's");
    expect(evaluateString("[createObject('a', createArray(1, 2)).a[1]]", scope())).toBe(2);
    expect(evaluateString('[copyIndex(1)]', scope())).toBe(3);
  });

  it('builds resource ids like ARM', () => {
    const sub = testTarget().subscriptionId;
    expect(
      evaluateString("[resourceId('Microsoft.KeyVault/vaults/secrets', 'kv', 's')]", scope()),
    ).toBe(
      `/subscriptions/${sub}/resourceGroups/rg-doc-intake/providers/Microsoft.KeyVault/vaults/kv/secrets/s`,
    );
    expect(
      evaluateString(
        "[subscriptionResourceId('Microsoft.Authorization/roleDefinitions', 'x')]",
        scope(),
      ),
    ).toBe(`/subscriptions/${sub}/providers/Microsoft.Authorization/roleDefinitions/x`);
    expect(
      evaluateString(
        "[extensionResourceId('/a/b', 'Microsoft.Authorization/roleAssignments', 'g')]",
        scope(),
      ),
    ).toBe('/a/b/providers/Microsoft.Authorization/roleAssignments/g');
  });

  it('runs lambdas: map, filter, flatten', () => {
    const p = {
      xs: [
        { k: 'a', v: [1] },
        { k: 'b', v: [2, 3] },
      ],
    };
    expect(
      evaluateString(
        "[flatten(map(filter(parameters('xs'), lambda('x', not(equals(lambdaVariables('x').k, 'a')))), lambda('x', lambdaVariables('x').v)))]",
        scope(p),
      ),
    ).toEqual([2, 3]);
  });

  it('keeps deployment-time values symbolic, and refuses to branch on them', () => {
    const principal = evaluateString("[reference('id').principalId]", scope());
    expect(principal).toEqual(new RuntimeValue("reference('id').principalId"));
    expect(evaluateString("[format('{0}/x', reference('id').name)]", scope())).toBe(
      "{reference('id').name}/x",
    );
    expect(() => evaluateString("[if(equals(reference('id').x, 'y'), 1, 2)]", scope())).toThrow(
      /only known at deployment/,
    );
  });

  it('throws on a function it does not know, so no template is passed unread', () => {
    expect(() => evaluateString("[listKeys('id', '2023-01-01')]", scope())).toThrow(
      /listKeys\(\) is not supported/,
    );
  });

  it('dry-runs copy loops with conditions, serial settings and module outputs', () => {
    const template = {
      parameters: { names: { type: 'array', defaultValue: ['a', 'b', 'c'] } },
      resources: {
        items: {
          copy: {
            name: 'items',
            count: "[length(parameters('names'))]",
            mode: 'serial',
            batchSize: 1,
          },
          condition: "[not(equals(parameters('names')[copyIndex()], 'b'))]",
          type: 'Microsoft.ManagedIdentity/userAssignedIdentities',
          name: "[parameters('names')[copyIndex()]]",
        },
        inner: {
          type: 'Microsoft.Resources/deployments',
          name: 'inner',
          properties: {
            expressionEvaluationOptions: { scope: 'inner' },
            parameters: { x: { value: "[reference('items[0]').clientId]" } },
            template: {
              parameters: { x: { type: 'string' } },
              outputs: { y: { value: "[parameters('x')]" } },
            },
          },
        },
      },
      outputs: { y: { value: "[reference('inner').outputs.y.value]" } },
    };
    const result = dryRun(template, {}, { target: testTarget() });
    const identities = result.resources.filter((r) => r.type.endsWith('userAssignedIdentities'));
    expect(identities.map((r) => r.name)).toEqual(['a', 'c']);
    expect(identities[0]!.copy).toMatchObject({ mode: 'serial', batchSize: 1 });
    expect(String(result.outputs.y)).toBe(
      `{reference('/subscriptions/${testTarget().subscriptionId}/resourceGroups/rg-doc-intake/providers/Microsoft.ManagedIdentity/userAssignedIdentities/a').clientId}`,
    );
  });
});
