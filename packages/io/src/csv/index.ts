export { CsvError } from './csv-error.js';
export { readCsvFile } from './csv-file.js';
export { CsvParser, type CsvRow, parseCsv } from './csv-parser.js';
export {
  type CsvInput,
  type CsvRecord,
  type CsvTableOptions,
  parseCsvTable,
  readCsvTable,
  textPieces,
} from './csv-table.js';
export { csvLines, formatCsvField, formatCsvRow } from './csv-writer.js';
