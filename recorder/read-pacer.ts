import type { Socket } from 'node:net';

/**
 * Reads a busy watch stream in beats: after a read, the socket is left unread for `intervalMs` while the kernel
 * buffers what arrives, then everything that came in is read at once.
 *
 * Why: kube-apiserver flushes a watch after each event once its queue is empty (apiserver pkg/endpoints/handlers/
 * watch.go, `if len(ch) == 0 { flusher.Flush() }`), so a busy watch arrives as hundreds of small segments a second,
 * and a sidecar that reads each as it lands wakes up hundreds of times a second. Each wake-up of an otherwise idle
 * process costs tens of microseconds of CPU on a virtual machine, before any work is done: at 1,000 events/s, reading
 * in 50 ms beats took the recorder from ~9.6 % to ~7.6 % of a core (docs/recorder.md, Performance). The price is latency:
 * an event waits at most `intervalMs` longer before it is parsed.
 *
 * How: Node has no public way to stop reading a socket (pause() keeps reading until the stream's high-water mark is
 * buffered), so this calls the socket handle's readStop/readStart and keeps its `reading` flag in step, exactly as
 * net.js does for back-pressure (lib/net.js tryReadStart, lib/internal/stream_base_commons.js onStreamRead). TLS
 * sockets forward both calls to the TCP handle underneath (src/crypto/crypto_tls.cc TLSWrap::ReadStart). When the
 * handle does not have them (another runtime, a future Node), the socket is read as data arrives.
 *
 * The socket is parked from setImmediate, not from the data handler: the stream machinery re-arms reading on the
 * next tick after each chunk it delivers (Readable maybeReadMore → Socket._read → tryReadStart).
 */
export interface ReadPacer {
  /** Call after each chunk: parks the socket once the current burst has been handled. */
  afterData(): void;
  /**
   * Leaves the socket reading as Node expects, now: before it is paused for back-pressure or closed. The next
   * afterData paces it again.
   */
  release(): void;
  /** Whether the socket is parked right now (for tests). */
  readonly parked: boolean;
}

interface StreamHandle {
  reading?: boolean;
  readStart(): number;
  readStop(): number;
}

const unpaced: ReadPacer = { afterData() {}, release() {}, parked: false };

export function paceReads(socket: Socket | null | undefined, intervalMs: number): ReadPacer {
  const handle = (socket as unknown as { _handle?: Partial<StreamHandle> } | null | undefined)?._handle;
  if (!socket || intervalMs <= 0 || typeof handle?.readStop !== 'function' || typeof handle.readStart !== 'function') return unpaced;
  const stream = handle as StreamHandle;
  let parked = false;
  let pending: NodeJS.Immediate | undefined;
  let timer: NodeJS.Timeout | undefined;
  // The handle must still be this socket's: after a destroy, `_handle` is null and the old handle is closed.
  const open = () => !socket.destroyed && (socket as unknown as { _handle?: unknown })._handle === stream;

  const unpark = () => {
    timer = undefined;
    if (!parked) return;
    parked = false;
    if (!open()) return;
    stream.reading = true;
    stream.readStart();
  };
  const park = () => {
    pending = undefined;
    // Not reading: Node stopped the socket itself (back-pressure), and will restart it.
    if (parked || !open() || stream.reading === false) return;
    parked = true;
    stream.reading = false;
    stream.readStop();
    timer = setTimeout(unpark, intervalMs);
  };

  return {
    afterData() {
      if (parked || pending) return;
      pending = setImmediate(park);
    },
    release() {
      if (pending) clearImmediate(pending);
      clearTimeout(timer);
      pending = timer = undefined;
      if (parked) unpark();
    },
    get parked() {
      return parked;
    },
  };
}
