"""MapReduce jobs: setup, the map phase through the executor and merge queue, reduce, resume."""
