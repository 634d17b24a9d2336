-- Columns are listed by name so that their order is the WSDM order; the marker names the source for ingest.
COPY (
  SELECT {{columns}}
  FROM read_json(getvariable('json_path'), format = 'array', columns = {
    id: 'VARCHAR', prompt: 'VARCHAR', response_a: 'VARCHAR', response_b: 'VARCHAR',
    winner: 'VARCHAR', model_a: 'VARCHAR', model_b: 'VARCHAR', language: 'VARCHAR'
  })
) TO (getvariable('output_path')) (FORMAT parquet, KV_METADATA {arena_source: 'synthetic'});
