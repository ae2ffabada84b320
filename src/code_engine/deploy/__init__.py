"""Delivery: releases, environments, rollouts, analysis, targets and traffic routers."""
