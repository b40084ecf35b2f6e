"""Collection sync (issue #19): one analysis per recording, shared between instances, never a wrong match.

- ``identity``: tag normalisation, the key that finds candidate recordings (never confirms one);
- ``acoustic``: Chromaprint over the first two minutes of the decoded audio, compared by bit error rate:
  the only thing that confirms two files are one recording;
- ``records``: the shared record (tags, fingerprint, analysis numbers; no path, no local or server id);
- ``hub``: a hub's use cases (tokens, push, lookup) as plain functions the HTTP routes call;
- ``client``: the HTTP client of a hub; ``exchange``: candidates from a hub or a file during a job;
- ``sync``: the sync job (the analysis job with a hub); ``parquet``: offline export and import.
"""
