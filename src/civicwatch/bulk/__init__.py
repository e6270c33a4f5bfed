"""Bulk coding of archives on Dask: ``civicwatch bulk code`` and ``civicwatch bulk load``.

- ``archive``: reading JSONL, gzip/zstd JSONL and Parquet archives, split into partitions.
- ``manifest``: the output folder's layout and the resume manifest (which partitions are finished).
- ``run``: coding the partitions on a Dask cluster (a LocalCluster of processes by default).
- ``load``: loading a finished output folder into the database (``civicwatch.store.bulk``).
"""
