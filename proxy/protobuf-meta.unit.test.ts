import { describe, expect, it } from 'vitest';
import { protobufMeta } from './protobuf-meta.js';

// A ConfigMap as client-go's typed client sends it: k8s.io/apimachinery's protobuf serializer (v0.36.3), encoding
// {name: w1-config, namespace: ns, uid: 0b1c2d3e-aaaa-bbbb-cccc-111122223333, resourceVersion: "4364", labels, data}.
const configMap = Buffer.from(
  '6b3873000a0f0a0276311209436f6e6669674d6170125c0a4f0a0977312d636f6e66696712001a026e7322002a2430623163326433652d616161612d626262622d636363632d313131313232323233333333320434333634380042005a0a0a0361707012037a6f6f12090a0473697a651201331a002200',
  'hex',
);

describe('protobufMeta', () => {
  it("reads the ObjectMeta a typed client's protobuf body carries", () => {
    expect(protobufMeta(configMap)).toEqual({ metadata: { name: 'w1-config', namespace: 'ns', uid: '0b1c2d3e-aaaa-bbbb-cccc-111122223333', resourceVersion: '4364' } });
  });

  it('is undefined for what is not a Kubernetes protobuf envelope, or is cut short', () => {
    expect(protobufMeta(Buffer.from('{"metadata":{}}'))).toBeUndefined();
    expect(protobufMeta(configMap.subarray(0, 30))).toBeUndefined();
    expect(protobufMeta(Buffer.alloc(0))).toBeUndefined();
  });
});
