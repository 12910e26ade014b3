/** Benchmark-only app: the example chat topology hand-written with L2 constructs and the prebuilt handler bundles. */
import { App } from 'aws-cdk-lib';
import { L2ChatStack } from './l2-chat-stack';

const app = new App();
new L2ChatStack(app, 'BenchL2Chat');
app.synth();
