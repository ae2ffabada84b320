package code.admission_test

import rego.v1

import data.code.admission

good_container := {
	"name": "app",
	"image": "ghcr.io/code-engine/code-engine:0.1.0",
	"securityContext": {"allowPrivilegeEscalation": false, "privileged": false, "runAsNonRoot": true},
	"resources": {"limits": {"cpu": "1", "memory": "512Mi"}},
}

pod(containers, security_context) := {
	"kind": {"kind": "Pod"},
	"object": {"spec": {"securityContext": security_context, "containers": containers}},
}

with_container(overrides) := pod([object.union(good_container, overrides)], {})

test_compliant_pod_is_allowed if {
	admission.violations(pod([good_container], {"runAsNonRoot": true, "runAsUser": 65532})) == set()
}

test_compliant_deployment_is_allowed if {
	request := {
		"kind": {"kind": "Deployment"},
		"object": {"spec": {"template": {"spec": {"containers": [good_container]}}}},
	}
	admission.violations(request) == set()
}

test_cronjob_pod_template_is_checked if {
	bad := object.union(good_container, {"image": "docker.io/library/busybox"})
	request := {
		"kind": {"kind": "CronJob"},
		"object": {"spec": {"jobTemplate": {"spec": {"template": {"spec": {"containers": [bad]}}}}}},
	}
	admission.violations(request) == {"container app: image docker.io/library/busybox is not from ghcr.io"}
}

test_image_outside_ghcr_is_denied if {
	admission.violations(with_container({"image": "docker.io/library/python:3.11"})) == {"container app: image docker.io/library/python:3.11 is not from ghcr.io"}
}

test_lookalike_registry_is_denied if {
	admission.violations(with_container({"image": "ghcr.io.example.com/code:1"})) == {"container app: image ghcr.io.example.com/code:1 is not from ghcr.io"}
}

test_init_containers_are_checked if {
	init := object.union(good_container, {"name": "init", "image": "quay.io/x/y:1"})
	request := {"kind": {"kind": "Pod"}, "object": {"spec": {"containers": [good_container], "initContainers": [init]}}}
	admission.violations(request) == {"container init: image quay.io/x/y:1 is not from ghcr.io"}
}

test_privileged_container_is_denied if {
	request := with_container({"securityContext": {"privileged": true, "allowPrivilegeEscalation": false, "runAsNonRoot": true}})
	admission.violations(request) == {"container app: privileged containers are not allowed"}
}

test_privilege_escalation_must_be_disabled if {
	request := with_container({"securityContext": {"runAsNonRoot": true}})
	admission.violations(request) == {"container app: securityContext.allowPrivilegeEscalation must be false"}
}

test_missing_run_as_non_root_is_denied if {
	request := with_container({"securityContext": {"allowPrivilegeEscalation": false}})
	admission.violations(request) == {"container app: must run as non-root (runAsNonRoot: true)"}
}

test_pod_level_run_as_non_root_is_inherited if {
	container := object.union(good_container, {"securityContext": {"allowPrivilegeEscalation": false}})
	admission.violations(pod([container], {"runAsNonRoot": true})) == set()
}

test_container_overrides_pod_run_as_non_root if {
	container := object.union(good_container, {"securityContext": {"allowPrivilegeEscalation": false, "runAsNonRoot": false}})
	admission.violations(pod([container], {"runAsNonRoot": true})) == {"container app: must run as non-root (runAsNonRoot: true)"}
}

test_root_user_is_denied if {
	admission.violations(pod([good_container], {"runAsUser": 0})) == {"container app: runAsUser 0 (root) is not allowed"}
}

test_missing_memory_limit_is_denied if {
	request := with_container({"resources": {"limits": {"cpu": "1"}}})
	admission.violations(request) == {"container app: resources.limits.memory is required"}
}

test_missing_limits_are_denied if {
	request := with_container({"resources": {"requests": {"cpu": "1", "memory": "1Gi"}}})
	admission.violations(request) == {
		"container app: resources.limits.cpu is required",
		"container app: resources.limits.memory is required",
	}
}

test_host_namespaces_are_denied if {
	request := {"kind": {"kind": "Pod"}, "object": {"spec": {"hostNetwork": true, "hostPID": true, "containers": [good_container]}}}
	admission.violations(request) == {"hostNetwork is not allowed", "hostPID is not allowed"}
}

test_other_kinds_are_not_reviewed if {
	admission.violations({"kind": {"kind": "ConfigMap"}, "object": {"data": {}}}) == set()
}
