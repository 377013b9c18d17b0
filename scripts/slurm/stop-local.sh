#!/usr/bin/env bash
# Stops the one-node Slurm of start-local.sh.
pkill -x slurmd || true
pkill -x slurmctld || true
pkill -x munged || true
