/**
 * Which TensorFlow.js backend a trial runs on: a pure decision from the request, the model kind
 * and what is installed.
 */

/** Every backend a trial may ask for; `auto` picks tensorflow-gpu > tensorflow > wasm. */
export const BACKENDS = ['auto', 'wasm', 'cpu', 'tensorflow', 'tensorflow-gpu'] as const;

export type BackendName = (typeof BACKENDS)[number];

/** What this process can load. */
export interface InstalledBackends {
  /** @tensorflow/tfjs-node-gpu can be imported. */
  tensorflowGpu: boolean;
  /** @tensorflow/tfjs-node can be imported. */
  tensorflow: boolean;
}

export interface BackendChoice {
  /** What the result records: 'wasm', 'cpu', 'tensorflow' or 'tensorflow-gpu'. */
  backend: Exclude<BackendName, 'auto'>;
  /** Why this backend, when it is not simply the one asked for. */
  note?: string;
}

export type BackendDecision = { ok: true; choice: BackendChoice } | { ok: false; reason: string };

const CONV_ON_WASM =
  'conv on wasm without tfjs-node: its missing Conv2DBackpropFilter is replaced by npf-sweep\'s own conv gradient (shifted matMuls); install @tensorflow/tfjs-node(-gpu) for full CIFAR runs';

export const TFJS_NODE_INSTALL_HINT =
  'install it beside npf-sweep with `npm install @tensorflow/tfjs-node@4.22` (or @tensorflow/tfjs-node-gpu@4.22 for CUDA), matching @tensorflow/tfjs-core 4.22';

/**
 * - auto: tensorflow-gpu > tensorflow > wasm, for dense and conv models alike. The wasm backend
 *   has no Conv2DBackpropFilter kernel, but the conv layer's gradient is computed here from
 *   kernels it has (science/models/ops.ts), ~1000x faster than the cpu backend's filter gradient.
 * - an explicit request is honoured or refused with the reason, never silently swapped.
 */
export function chooseBackend(requested: BackendName, hasConv: boolean, installed: InstalledBackends): BackendDecision {
  switch (requested) {
    case 'auto':
      if (installed.tensorflowGpu) return { ok: true, choice: { backend: 'tensorflow-gpu' } };
      if (installed.tensorflow) return { ok: true, choice: { backend: 'tensorflow' } };
      if (hasConv) return { ok: true, choice: { backend: 'wasm', note: CONV_ON_WASM } };
      return { ok: true, choice: { backend: 'wasm' } };
    case 'wasm':
      return { ok: true, choice: hasConv ? { backend: 'wasm', note: CONV_ON_WASM } : { backend: 'wasm' } };
    case 'cpu':
      if (hasConv) return { ok: true, choice: { backend: 'cpu', note: 'the cpu backend is plain JavaScript: conv training is far slower than on wasm' } };
      return { ok: true, choice: { backend: 'cpu' } };
    case 'tensorflow':
      if (!installed.tensorflow) return { ok: false, reason: `backend 'tensorflow' needs @tensorflow/tfjs-node, which is not installed: ${TFJS_NODE_INSTALL_HINT}` };
      return { ok: true, choice: { backend: 'tensorflow' } };
    case 'tensorflow-gpu':
      if (!installed.tensorflowGpu) {
        return { ok: false, reason: `backend 'tensorflow-gpu' needs @tensorflow/tfjs-node-gpu, which is not installed: ${TFJS_NODE_INSTALL_HINT}` };
      }
      return { ok: true, choice: { backend: 'tensorflow-gpu' } };
  }
}
