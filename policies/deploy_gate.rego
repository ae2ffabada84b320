# Deploy gate of CODE's own delivery: what a release must show before it goes to an environment.
#   staging and prod: line coverage >= 80 % and no critical vulnerability;
#   prod: the same commit succeeded in staging first.
# Missing evidence fails the gate (fail closed).
#
# The decision is a function of the request it judges (`violations(request)`); `deny` and
# `allowed` apply it to `input`.
package code.deploy_gate

import rego.v1

min_coverage_percent := 80

environments := {"dev", "staging", "prod"}

gated_environments := {"staging", "prod"}

deny := violations(input)

allowed if count(deny) == 0

violations(request) := (environment_violations(request) | quality_violations(request)) | promotion_violations(request)

environment_violations(request) := {msg |
	not object.get(request, "environment", null) in environments
	msg := sprintf("unknown environment %s", [object.get(request, "environment", "?")])
}

quality_violations(request) := {msg |
	request.environment in gated_environments
	some msg in quality_findings(object.get(request, "quality", {}))
}

quality_findings(quality) := {msg |
	not is_number(object.get(quality, "coverage_percent", null))
	msg := "no coverage report for this release"
} | {msg |
	quality.coverage_percent < min_coverage_percent
	msg := sprintf("coverage %v%% is below the %v%% minimum", [quality.coverage_percent, min_coverage_percent])
} | {msg |
	not is_number(object.get(quality, ["vulnerabilities", "critical"], null))
	msg := "no vulnerability scan for this release"
} | {msg |
	quality.vulnerabilities.critical > 0
	msg := sprintf("%v critical vulnerabilities (0 allowed)", [quality.vulnerabilities.critical])
}

promotion_violations(request) := {msg |
	request.environment == "prod"
	not staging_succeeded(request)
	msg := sprintf("commit %s has no successful staging deployment", [object.get(request, ["release", "sha"], "?")])
}

staging_succeeded(request) if {
	some deployment in request.history
	deployment.environment == "staging"
	deployment.sha == request.release.sha
	deployment.status == "succeeded"
}
