export { type ConvertOptions, convertToTileCache, openTileCache, type TileCache } from './tile-cache.js';
