/** Benchmark-only app: the example chat topology with NodejsFunction handlers (bundled by esbuild at synth). */
import { App } from 'aws-cdk-lib';
import { NodejsChatStack } from './nodejs-chat-stack';

const app = new App();
new NodejsChatStack(app, 'BenchNodejsChat');
app.synth();
