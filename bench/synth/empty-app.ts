/**
 * The floor of the synth benchmark: an empty stack, synthesized exactly like the example app.
 * Its one resource is a property-less WaitConditionHandle, because template validation refuses a template
 * without resources (rule F0001 "Resources section must exist and be non-empty").
 */
import { App, CfnWaitConditionHandle, Stack } from 'aws-cdk-lib';

const app = new App();
const stack = new Stack(app, 'BenchEmpty');
new CfnWaitConditionHandle(stack, 'Placeholder');
app.synth();
