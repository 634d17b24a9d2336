import fs from 'node:fs';

/**
 * DuckDB's CSV reader refuses a row longer than its `max_line_size`, but names a wrong line and
 * no id. This scans the file once more, quote-aware (RFC 4180: `"` quotes, `""` escapes), to find
 * the first such row, its id and its longest cell. It keeps only a short head of each cell, so
 * its memory does not grow with the row.
 */

export interface OversizedRow {
  /** 0-based data row (the header is not counted). */
  rowNo: number;
  bytes: number;
  id: string | null;
  /** The header name of the row's longest cell. */
  column: string;
}

/** Enough of a cell to read an id or a header name; longer cells are cut here. */
const CELL_HEAD = 200;
const CHUNK = 1 << 20;

export function findOversizedRow(file: string, limitBytes: number): OversizedRow | null {
  const fd = fs.openSync(file, 'r');
  const buffer = Buffer.alloc(CHUNK);
  let header: string[] | null = null;
  let cells: string[] = [];
  let cellBytes: number[] = [];
  let cell: number[] = [];
  let cellLength = 0;
  let rowBytes = 0;
  let rowNo = 0;
  let inQuotes = false;
  let quotePending = false;
  const endCell = () => {
    cells.push(Buffer.from(cell).toString('utf8'));
    cellBytes.push(cellLength);
    cell = [];
    cellLength = 0;
  };
  try {
    for (;;) {
      const read = fs.readSync(fd, buffer, 0, CHUNK, null);
      if (read === 0) break;
      for (let i = 0; i < read; i++) {
        const byte = buffer[i]!;
        rowBytes++;
        if (quotePending) {
          quotePending = false;
          if (byte === 0x22) {
            // a doubled quote inside a quoted cell is one literal quote
            if (cell.length < CELL_HEAD) cell.push(byte);
            cellLength++;
            continue;
          }
          inQuotes = false;
        }
        if (inQuotes) {
          if (byte === 0x22) quotePending = true;
          else {
            if (cell.length < CELL_HEAD) cell.push(byte);
            cellLength++;
          }
          continue;
        }
        if (byte === 0x22) inQuotes = true;
        else if (byte === 0x2c) endCell();
        else if (byte === 0x0a) {
          rowBytes--; // the line break is not part of the row
          endCell();
          if (header === null) header = cells;
          else {
            if (rowBytes > limitBytes) return oversized(header, cells, cellBytes, rowNo, rowBytes);
            rowNo++;
          }
          cells = [];
          cellBytes = [];
          rowBytes = 0;
        } else if (byte === 0x0d) {
          rowBytes--; // nor is a carriage return before it
        } else {
          if (cell.length < CELL_HEAD) cell.push(byte);
          cellLength++;
        }
      }
    }
    if (header !== null && rowBytes > limitBytes) {
      endCell();
      return oversized(header, cells, cellBytes, rowNo, rowBytes);
    }
    return null;
  } finally {
    fs.closeSync(fd);
  }
}

function oversized(header: string[], cells: string[], cellBytes: number[], rowNo: number, bytes: number): OversizedRow {
  const idIndex = header.indexOf('id');
  const longest = cellBytes.indexOf(Math.max(...cellBytes));
  return {
    rowNo,
    bytes,
    id: idIndex >= 0 && idIndex < cells.length ? cells[idIndex]! : null,
    column: header[longest] ?? `column ${longest + 1}`,
  };
}
