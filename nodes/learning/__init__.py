"""Learning nodes: learner, executor, scorer, model writer and reader."""
