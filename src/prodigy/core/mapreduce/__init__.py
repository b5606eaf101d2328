"""Pure MapReduce rules: work items, job plan, failure policy, results, resume plan."""
