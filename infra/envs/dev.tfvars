environment        = "dev"
vpc_cidr           = "10.10.0.0/16"
availability_zones = ["eu-west-1a", "eu-west-1b"]

node_instance_types = ["t3.medium"]
node_count          = { min = 1, desired = 2, max = 3 }
use_spot            = true

db_instance_class        = "db.t4g.micro"
db_allocated_storage_gb  = 20
db_multi_az              = false
db_backup_retention_days = 1
backup_retention_days    = 7
