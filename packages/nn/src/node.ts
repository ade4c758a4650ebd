// Node-only helpers, kept out of the main entry so browser bundles never see `node:fs`.
export {
  loadSafetensorsFile,
  readSafetensorsFile,
  saveSafetensorsFile,
  writeFileAtomic,
} from './safetensors/node.js';
