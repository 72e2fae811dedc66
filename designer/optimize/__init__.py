"""The optimizer in two stages: `columns` turns every (class, chip, partition) into what one
replica can do (numpy, once, immutable); the master MILP (`build` over `features`) chooses
replicas, servers and configurations under the requirements that couple them."""
