import { createHash, createPrivateKey, generateKeyPairSync, randomBytes, sign, type KeyObject } from 'node:crypto';
import { isIP } from 'node:net';

/**
 * The proxy's own TLS when it listens beyond loopback: a CA made for this one run, a serving certificate for the
 * addresses the proxy answers on, and a client certificate for the controller. The server asks every client for a
 * certificate of this CA, so only a holder of the written kubeconfig (which carries the CA and the client's
 * certificate and key) can use the credentials behind the proxy; nothing is written anywhere else, and all of it
 * dies with the run.
 *
 * node:crypto makes the keys and signatures but writes no X.509, so the certificates are encoded here as DER, the
 * few fields a TLS peer needs (RFC 5280 4.1; the extensions Go's crypto/x509 and OpenSSL check: basicConstraints,
 * keyUsage, extKeyUsage, subjectAltName). ECDSA P-256 with SHA-256, as client-go and kubeadm use.
 */

export interface ProxyTls {
  readonly caPem: string;
  readonly serverCertPem: string;
  readonly serverKeyPem: string;
  readonly clientCertPem: string;
  readonly clientKeyPem: string;
}

export interface ProxyTlsOptions {
  /** DNS names and IP addresses the serving certificate names (subjectAltName). */
  readonly hosts: readonly string[];
  readonly now?: Date;
  /** How long the certificates are valid; a proxy run is shorter. Default 30 days. */
  readonly validForMs?: number;
}

export function generateProxyTls(options: ProxyTlsOptions): ProxyTls {
  const now = options.now ?? new Date();
  // An hour of slack for clocks that are a little behind (the controller may run on another machine).
  const notBefore = new Date(now.getTime() - 3_600_000);
  const notAfter = new Date(now.getTime() + (options.validForMs ?? 30 * 86_400_000));
  const ca = keyPair();
  const caName = name('kreplay proxy CA');
  const caCert = certificate({
    subject: caName,
    issuer: caName,
    publicKey: ca.publicKey,
    issuerKey: ca.publicKey,
    signer: ca.privateKey,
    notBefore,
    notAfter,
    extensions: [extension(oids.basicConstraints, true, seq(bool(true))), extension(oids.keyUsage, true, keyUsage(usage.digitalSignature | usage.keyCertSign | usage.cRLSign))],
  });
  const server = keyPair();
  const serverCert = certificate({
    subject: name('kreplay proxy'),
    issuer: caName,
    publicKey: server.publicKey,
    issuerKey: ca.publicKey,
    signer: ca.privateKey,
    notBefore,
    notAfter,
    extensions: [
      extension(oids.basicConstraints, true, seq()),
      extension(oids.keyUsage, true, keyUsage(usage.digitalSignature)),
      extension(oids.extKeyUsage, false, seq(oid(oids.serverAuth))),
      extension(oids.subjectAltName, false, subjectAltNames(options.hosts)),
    ],
  });
  const client = keyPair();
  const clientCert = certificate({
    subject: name('kreplay-proxy-client'),
    issuer: caName,
    publicKey: client.publicKey,
    issuerKey: ca.publicKey,
    signer: ca.privateKey,
    notBefore,
    notAfter,
    extensions: [extension(oids.basicConstraints, true, seq()), extension(oids.keyUsage, true, keyUsage(usage.digitalSignature)), extension(oids.extKeyUsage, false, seq(oid(oids.clientAuth)))],
  });
  return {
    caPem: pem('CERTIFICATE', caCert),
    serverCertPem: pem('CERTIFICATE', serverCert),
    serverKeyPem: keyPem(server.privateKey),
    clientCertPem: pem('CERTIFICATE', clientCert),
    clientKeyPem: keyPem(client.privateKey),
  };
}

// ---- certificates -------------------------------------------------------------------------------------------------

const oids = {
  ecdsaWithSha256: '1.2.840.10045.4.3.2',
  commonName: '2.5.4.3',
  basicConstraints: '2.5.29.19',
  keyUsage: '2.5.29.15',
  extKeyUsage: '2.5.29.37',
  subjectAltName: '2.5.29.17',
  subjectKeyIdentifier: '2.5.29.14',
  authorityKeyIdentifier: '2.5.29.35',
  serverAuth: '1.3.6.1.5.5.7.3.1',
  clientAuth: '1.3.6.1.5.5.7.3.2',
};

/** keyUsage bits, numbered from the most significant bit of the first byte (RFC 5280 4.2.1.3). */
const usage = { digitalSignature: 0x80, keyCertSign: 0x04, cRLSign: 0x02 };

function keyPair(): { publicKey: KeyObject; privateKey: KeyObject } {
  return generateKeyPairSync('ec', { namedCurve: 'prime256v1' });
}

function keyId(key: KeyObject): Buffer {
  return createHash('sha1').update(key.export({ type: 'spki', format: 'der' })).digest();
}

function certificate(c: { subject: Buffer; issuer: Buffer; publicKey: KeyObject; issuerKey: KeyObject; signer: KeyObject; notBefore: Date; notAfter: Date; extensions: Buffer[] }): Buffer {
  const serial = randomBytes(16);
  serial[0]! &= 0x7f; // a positive INTEGER
  const algorithm = seq(oid(oids.ecdsaWithSha256));
  // Key identifiers (RFC 5280 4.2.1.1-2; RFC 7093 method: a hash of the SubjectPublicKeyInfo): strict verifiers
  // (OpenSSL -x509_strict) build the chain by them.
  const extensions = [...c.extensions, extension(oids.subjectKeyIdentifier, false, tlv(0x04, keyId(c.publicKey))), extension(oids.authorityKeyIdentifier, false, seq(tlv(0x80, keyId(c.issuerKey))))];
  const tbs = seq(
    explicit(0, integer(Buffer.from([2]))), // v3
    integer(serial),
    algorithm,
    c.issuer,
    seq(time(c.notBefore), time(c.notAfter)),
    c.subject,
    c.publicKey.export({ type: 'spki', format: 'der' }),
    explicit(3, seq(...extensions)),
  );
  // crypto.sign with an EC key gives the DER ECDSA-Sig-Value X.509 wants.
  return seq(tbs, algorithm, bitString(sign('sha256', tbs, c.signer)));
}

function name(commonName: string): Buffer {
  return seq(set(seq(oid(oids.commonName), tlv(0x0c, Buffer.from(commonName, 'utf8')))));
}

function extension(id: string, critical: boolean, value: Buffer): Buffer {
  return seq(oid(id), ...(critical ? [bool(true)] : []), tlv(0x04, value));
}

function keyUsage(bits: number): Buffer {
  // DER: the unused trailing bits of the last byte are counted, not encoded.
  let unused = 0;
  while (unused < 7 && (bits & (1 << unused)) === 0) unused++;
  return tlv(0x03, Buffer.from([unused, bits]));
}

function subjectAltNames(hosts: readonly string[]): Buffer {
  const names = [...new Set(hosts)].map((host) => {
    const bare = host.replace(/^\[|\]$/g, '');
    const family = isIP(bare);
    if (family === 4) return tlv(0x87, Buffer.from(bare.split('.').map(Number)));
    if (family === 6) return tlv(0x87, ipv6Bytes(bare));
    return tlv(0x82, Buffer.from(bare, 'ascii'));
  });
  return seq(...names);
}

function ipv6Bytes(address: string): Buffer {
  const [head, tail] = address.split('::') as [string, string | undefined];
  const groups = (part: string | undefined) => (part ? part.split(':') : []);
  const left = groups(head);
  const right = groups(tail);
  // An embedded IPv4 tail (::ffff:1.2.3.4) becomes two groups.
  const expand = (g: string[]) => g.flatMap((x) => (x.includes('.') ? ((b) => [((b[0]! << 8) | b[1]!).toString(16), ((b[2]! << 8) | b[3]!).toString(16)])(x.split('.').map(Number)) : [x]));
  const l = expand(left);
  const r = expand(right);
  const all = tail === undefined ? l : [...l, ...Array<string>(8 - l.length - r.length).fill('0'), ...r];
  const out = Buffer.alloc(16);
  all.forEach((g, i) => out.writeUInt16BE(parseInt(g || '0', 16), i * 2));
  return out;
}

// ---- DER ----------------------------------------------------------------------------------------------------------

function tlv(tag: number, content: Buffer): Buffer {
  const n = content.length;
  let length: Buffer;
  if (n < 0x80) length = Buffer.from([n]);
  else {
    const bytes: number[] = [];
    for (let v = n; v > 0; v >>= 8) bytes.unshift(v & 0xff);
    length = Buffer.from([0x80 | bytes.length, ...bytes]);
  }
  return Buffer.concat([Buffer.from([tag]), length, content]);
}

const seq = (...parts: Buffer[]) => tlv(0x30, Buffer.concat(parts));
const set = (...parts: Buffer[]) => tlv(0x31, Buffer.concat(parts));
const explicit = (n: number, content: Buffer) => tlv(0xa0 + n, content);
const bool = (value: boolean) => tlv(0x01, Buffer.from([value ? 0xff : 0]));
const bitString = (content: Buffer) => tlv(0x03, Buffer.concat([Buffer.from([0]), content]));

function integer(value: Buffer): Buffer {
  let v = value;
  while (v.length > 1 && v[0] === 0 && (v[1]! & 0x80) === 0) v = v.subarray(1);
  return tlv(0x02, (v[0]! & 0x80) !== 0 ? Buffer.concat([Buffer.from([0]), v]) : v);
}

function oid(dotted: string): Buffer {
  const [a, b, ...rest] = dotted.split('.').map(Number) as [number, number, ...number[]];
  const bytes = [40 * a + b];
  for (const n of rest) {
    const chunk: number[] = [n & 0x7f];
    for (let v = n >>> 7; v > 0; v >>>= 7) chunk.unshift(0x80 | (v & 0x7f));
    bytes.push(...chunk);
  }
  return tlv(0x06, Buffer.from(bytes));
}

/** UTCTime through 2049, GeneralizedTime after (RFC 5280 4.1.2.5). */
function time(date: Date): Buffer {
  const iso = date.toISOString().replace(/[-:T]/g, '').slice(0, 14);
  return date.getUTCFullYear() < 2050 ? tlv(0x17, Buffer.from(`${iso.slice(2)}Z`, 'ascii')) : tlv(0x18, Buffer.from(`${iso}Z`, 'ascii'));
}

function pem(label: string, der: Buffer): string {
  const base64 = der.toString('base64').replace(/(.{64})/g, '$1\n').replace(/\n$/, '');
  return `-----BEGIN ${label}-----\n${base64}\n-----END ${label}-----\n`;
}

function keyPem(key: KeyObject): string {
  // PKCS#8 PEM: what Node's tls and Go's tls.X509KeyPair both read.
  return createPrivateKey(key.export({ type: 'pkcs8', format: 'pem' })).export({ type: 'pkcs8', format: 'pem' }) as string;
}
