/** The io room's formats, for code that must not load the io room (the API's shapes, the web app). */
export { EXPORT_FORMATS, IMPORT_FORMATS, type ExportFormat, type ImportFormat } from "./types.js";
