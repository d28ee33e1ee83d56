/**
 * The metadata of a request body client-go sent as protobuf. Its typed clients send built-in types that way
 * (client-gen's `UseProtobufAsDefault`, k8s.io/client-go rest/request.go), and the proxy cannot rewrite a request
 * body as it rewrites the Accept of an answer; but a write's resourceVersion is what tells a stale copy from a fresh
 * one, so the few ObjectMeta fields are read from the protobuf itself.
 *
 * The wire format (k8s.io/apimachinery pkg/runtime/serializer/protobuf): the magic "k8s\0", then a runtime.Unknown
 * message whose field 2 (`raw`) is the object; every object's field 1 is its ObjectMeta, where name is 1, namespace 3,
 * uid 5 and resourceVersion 6 (k8s.io/apimachinery pkg/apis/meta/v1/generated.proto).
 */

export interface ProtobufMeta {
  readonly metadata: { name?: string; namespace?: string; uid?: string; resourceVersion?: string };
}

const magic = Buffer.from([0x6b, 0x38, 0x73, 0x00]);

/** The body's ObjectMeta fields, or undefined when it is not a Kubernetes protobuf envelope (or is cut short). */
export function protobufMeta(body: Buffer): ProtobufMeta | undefined {
  if (body.length < magic.length || !body.subarray(0, magic.length).equals(magic)) return undefined;
  try {
    const raw = field(body.subarray(magic.length), 2);
    const meta = raw && field(raw, 1);
    if (!meta) return undefined;
    const text = (n: number) => field(meta, n)?.toString('utf8');
    const metadata: ProtobufMeta['metadata'] = {};
    const name = text(1);
    const namespace = text(3);
    const uid = text(5);
    const resourceVersion = text(6);
    if (name) metadata.name = name;
    if (namespace) metadata.namespace = namespace;
    if (uid) metadata.uid = uid;
    if (resourceVersion) metadata.resourceVersion = resourceVersion;
    return { metadata };
  } catch {
    return undefined;
  }
}

/** The first length-delimited field `wanted` of a message. Throws on a malformed message. */
function field(message: Buffer, wanted: number): Buffer | undefined {
  let at = 0;
  const varint = (): number => {
    let value = 0;
    let shift = 0;
    for (;;) {
      if (at >= message.length || shift > 49) throw new Error('truncated varint');
      const byte = message[at++]!;
      value += (byte & 0x7f) * 2 ** shift;
      if ((byte & 0x80) === 0) return value;
      shift += 7;
    }
  };
  while (at < message.length) {
    const key = varint();
    const number = Math.floor(key / 8);
    const wire = key % 8;
    if (wire === 0) varint();
    else if (wire === 1) at += 8;
    else if (wire === 5) at += 4;
    else if (wire === 2) {
      const length = varint();
      if (at + length > message.length) throw new Error('truncated field');
      if (number === wanted) return message.subarray(at, at + length);
      at += length;
    } else throw new Error(`unsupported wire type ${wire}`);
  }
  return undefined;
}
