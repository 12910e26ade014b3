/**
 * `wsgate/testing/serializer`: the jest snapshot serializer of `wsgate/testing` as a module, for jest's config:
 * `snapshotSerializers: ['wsgate/testing/serializer']`.
 */
import { wsgateSnapshotSerializer } from './index';

export = wsgateSnapshotSerializer;
