"""The order lifecycle: intake and the decision, the jobs an order sets off, the adapters' runtime, results and
their write-back to Kombo, reconciliation with Kombo's order list, and the retention of candidate data."""
