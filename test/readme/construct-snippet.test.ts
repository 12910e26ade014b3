/**
 * The README's construct snippet (between `<!-- construct-snippet:start -->` and `<!-- construct-snippet:end -->`)
 * is an app a user can copy: it type-checks against `wsgate` (mapped to lib/index.ts) with strict settings, and it
 * synthesizes, with CloudFormation validation on, into the stack it describes.
 */
import { mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { App } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import ts from 'typescript';
import { ROOT, readmeSnippet, strictTypeCheck } from './support/readme-snippet';
import { VALIDATION_CONTEXT } from '../lib/template-helpers';

const WORK = join(ROOT, 'test', '.work', 'construct-snippet');

const snippet = (): string => readmeSnippet('construct-snippet');

// The work folder holds only the snippet's copy; it is ignored by git and rewritten by every run.
beforeAll(() => {
  rmSync(WORK, { recursive: true, force: true });
  mkdirSync(WORK, { recursive: true });
});

test('GIVEN the README construct snippet WHEN type-checked against wsgate with strict settings THEN it compiles without a diagnostic', () => {
  // GIVEN
  const file = join(WORK, 'app.ts');
  writeFileSync(file, snippet());
  // WHEN
  const check = strictTypeCheck(file, { wsgate: ['lib/index.ts'] });
  // THEN
  expect(check.statements).toBeGreaterThan(5);
  expect(check.diagnostics).toEqual([]);
});

describe('the README construct snippet, synthesized', () => {
  let template: Template;

  beforeAll(() => {
    // GIVEN the snippet as CommonJS, 'wsgate' resolved to this repository's lib/, its app handed back to the test
    const js = ts.transpileModule(snippet(), {
      compilerOptions: { module: ts.ModuleKind.CommonJS, target: ts.ScriptTarget.ES2022, esModuleInterop: true },
    }).outputText.replace(/require\("wsgate"\)/g, `require(${JSON.stringify(join(ROOT, 'lib', 'index'))})`);
    const file = join(WORK, 'app.js');
    writeFileSync(file, `${js}\nmodule.exports = { app };\n`);
    // WHEN it runs with validation on, as `cdk synth` would run it with this repository's cdk.json
    const previous = process.env.CDK_CONTEXT_JSON;
    process.env.CDK_CONTEXT_JSON = JSON.stringify(VALIDATION_CONTEXT);
    let app: App;
    try {
      app = require(file).app;
    } finally {
      if (previous === undefined) delete process.env.CDK_CONTEXT_JSON;
      else process.env.CDK_CONTEXT_JSON = previous;
    }
    const assembly = app.synth();
    const stack = assembly.getStackByName('Realtime');
    template = Template.fromJSON(stack.template);
    const report = JSON.parse(readFileSync(join(assembly.directory, 'validation-report.json'), 'utf8'));
    expect((report.pluginReports ?? []).flatMap((r: { violations?: unknown[] }) => r.violations ?? [])).toEqual([]);
  });

  test('THEN the API has the user $connect/$disconnect, the bundled $default and the three custom routes', () => {
    const keys = Object.values(template.findResources('AWS::ApiGatewayV2::Route')).map((r: any) => r.Properties.RouteKey).sort();
    expect(keys).toEqual(['$connect', '$default', '$disconnect', 'join', 'orders', 'sendmessage']);
    // authorizer + default + join + sendmessage (bundled) + Connect, Disconnect, Orders, Publisher (the user's)
    template.resourceCountIs('AWS::Lambda::Function', 8);
  });

  test('THEN the custom domain is mapped at v1 with an alias record, and the schedule runs the publisher', () => {
    template.hasResourceProperties('AWS::ApiGatewayV2::DomainName', { DomainName: 'ws.example.com' });
    template.hasResourceProperties('AWS::ApiGatewayV2::ApiMapping', { ApiMappingKey: 'v1' });
    template.hasResourceProperties('AWS::Route53::RecordSet', { Name: 'ws.example.com.', Type: 'A' });
    template.hasResourceProperties('AWS::Events::Rule', { ScheduleExpression: 'rate(1 minute)' });
    expect(template.toJSON().Outputs.Url.Value).toBe('wss://ws.example.com/v1');
  });
});
