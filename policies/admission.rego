# Admission policy for workloads in CODE's namespaces, evaluated on an AdmissionReview:
# images only from ghcr.io, no privileged containers or privilege escalation, non-root users,
# CPU and memory limits on every container, no host namespaces.
#
# The decision is a function of the request it judges (`violations(request)`), so tests and
# other policies call it with a document instead of overriding `input`; `deny` and `allowed`
# apply it to the admission review in `input`.
package code.admission

import rego.v1

workload_kinds := {"Deployment", "StatefulSet", "DaemonSet", "ReplicaSet", "Job"}

deny := violations(input.request)

allowed if count(deny) == 0

violations(request) := ((((image_violations(request) | privileged_violations(request)) | escalation_violations(request)) | root_violations(request)) | limit_violations(request)) | host_violations(request)

# The pod spec of the reviewed object, whatever its kind.
pod_spec(request) := request.object.spec if request.kind.kind == "Pod"

pod_spec(request) := request.object.spec.template.spec if request.kind.kind in workload_kinds

pod_spec(request) := request.object.spec.jobTemplate.spec.template.spec if request.kind.kind == "CronJob"

containers(request) := [container |
	some field in ["initContainers", "containers", "ephemeralContainers"]
	some container in pod_spec(request)[field]
]

image_violations(request) := {msg |
	some container in containers(request)
	not startswith(container.image, "ghcr.io/")
	msg := sprintf("container %s: image %s is not from ghcr.io", [container.name, container.image])
}

privileged_violations(request) := {msg |
	some container in containers(request)
	container.securityContext.privileged == true
	msg := sprintf("container %s: privileged containers are not allowed", [container.name])
}

escalation_violations(request) := {msg |
	some container in containers(request)
	object.get(container, ["securityContext", "allowPrivilegeEscalation"], true) != false
	msg := sprintf("container %s: securityContext.allowPrivilegeEscalation must be false", [container.name])
}

root_violations(request) := non_root_violations(request) | root_user_violations(request)

# A container's own securityContext setting wins over the pod's.
non_root_violations(request) := {msg |
	some container in containers(request)
	effective(request, container, "runAsNonRoot") != true
	msg := sprintf("container %s: must run as non-root (runAsNonRoot: true)", [container.name])
}

root_user_violations(request) := {msg |
	some container in containers(request)
	effective(request, container, "runAsUser") == 0
	msg := sprintf("container %s: runAsUser 0 (root) is not allowed", [container.name])
}

limit_violations(request) := {msg |
	some container in containers(request)
	some resource in ["cpu", "memory"]
	not object.get(container, ["resources", "limits", resource], false)
	msg := sprintf("container %s: resources.limits.%s is required", [container.name, resource])
}

host_violations(request) := {msg |
	some field in ["hostNetwork", "hostPID", "hostIPC"]
	pod_spec(request)[field] == true
	msg := sprintf("%s is not allowed", [field])
}

effective(request, container, setting) := object.get(
	container,
	["securityContext", setting],
	object.get(pod_spec(request), ["securityContext", setting], null),
)
