"""One device's work: the Nornir tasks, the job's command loop, and output cleaning."""
