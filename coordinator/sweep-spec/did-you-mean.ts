/** The sweep spec's "did you mean" (one implementation for every command: common/did-you-mean.ts). */
export { closest, didYouMean, editDistance } from '../../common/did-you-mean.js';
