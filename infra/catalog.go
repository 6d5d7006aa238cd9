package main

import (
	"fmt"
	"strings"

	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsathena"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsglue"
	"github.com/aws/aws-cdk-go/awscdk/v2/awss3"
	"github.com/aws/constructs-go/constructs/v10"
	"github.com/aws/jsii-runtime-go"

	"github.com/lambdastack/lambdastack/glue"
	"github.com/lambdastack/lambdastack/queries"
)

// CatalogProps wires the catalog to the buckets.
type CatalogProps struct {
	Config  Config
	Raw     awss3.IBucket
	Views   awss3.IBucket
	Results awss3.IBucket
}

// Catalog is the Glue database with one table per glue.Tables() entry (all
// with partition projection, so no crawler or MSCK REPAIR is needed), the
// Athena workgroup and one named query per queries/*.sql file.
type Catalog struct {
	constructs.Construct
	Database     awsglue.CfnDatabase
	DatabaseName string
	Tables       map[string]awsglue.CfnTable
	WorkGroup    awsathena.CfnWorkGroup
	Queries      []awsathena.CfnNamedQuery
}

// DatabaseName is the stage's Glue database name (Glue names allow no dashes).
func DatabaseName(cfg Config) string {
	return "lambdastack_" + strings.ReplaceAll(cfg.Stage, "-", "_")
}

// WorkGroupName is the stage's Athena workgroup name.
func WorkGroupName(cfg Config) string { return "lambdastack-" + cfg.Stage }

// NewCatalog creates the database, tables, workgroup and named queries.
func NewCatalog(scope constructs.Construct, id string, props *CatalogProps) (*Catalog, error) {
	c := constructs.NewConstruct(scope, &id)
	cfg := props.Config
	account := awscdk.Stack_Of(c).Account()
	dbName := DatabaseName(cfg)
	db := awsglue.NewCfnDatabase(c, jsii.String("Database"), &awsglue.CfnDatabaseProps{
		CatalogId: account,
		DatabaseInput: &awsglue.CfnDatabase_DatabaseInputProperty{
			Name:        jsii.String(dbName),
			Description: jsii.String("lambdastack " + cfg.Stage + ": raw events, errors, batch, speed, merged and users views"),
		},
	})
	cat := &Catalog{Construct: c, Database: db, DatabaseName: dbName, Tables: map[string]awsglue.CfnTable{}}
	for _, t := range glue.Tables() {
		bucket := props.Views
		if inRawBucket(t) {
			bucket = props.Raw
		}
		uri := "s3://" + *bucket.BucketName() + "/"
		serde, input, output := t.SerDe()
		tbl := awsglue.NewCfnTable(c, jsii.String(tableID(t.Name)), &awsglue.CfnTableProps{
			CatalogId:    account,
			DatabaseName: jsii.String(dbName),
			TableInput: &awsglue.CfnTable_TableInputProperty{
				Name:          jsii.String(t.Name),
				Description:   jsii.String(t.Description),
				TableType:     jsii.String("EXTERNAL_TABLE"),
				Parameters:    strMap(t.TableParameters(uri)),
				PartitionKeys: columns(t.PartitionKeys),
				StorageDescriptor: &awsglue.CfnTable_StorageDescriptorProperty{
					Columns:      columns(t.Columns),
					Location:     jsii.String(uri + t.Prefix),
					InputFormat:  jsii.String(input),
					OutputFormat: jsii.String(output),
					Compressed:   jsii.Bool(true),
					SerdeInfo: &awsglue.CfnTable_SerdeInfoProperty{
						SerializationLibrary: jsii.String(serde),
					},
				},
			},
		})
		tbl.Node().AddDependency(db)
		cat.Tables[t.Name] = tbl
	}

	wg := awsathena.NewCfnWorkGroup(c, jsii.String("WorkGroup"), &awsathena.CfnWorkGroupProps{
		Name:                  jsii.String(WorkGroupName(cfg)),
		Description:           jsii.String("lambdastack " + cfg.Stage + ": queries over the views, results kept 30 days"),
		State:                 jsii.String("ENABLED"),
		RecursiveDeleteOption: jsii.Bool(true),
		WorkGroupConfiguration: &awsathena.CfnWorkGroup_WorkGroupConfigurationProperty{
			EnforceWorkGroupConfiguration:   jsii.Bool(true),
			PublishCloudWatchMetricsEnabled: jsii.Bool(true),
			BytesScannedCutoffPerQuery:      jsii.Number(float64(cfg.AthenaBytesScannedLimitMB) * 1024 * 1024),
			EngineVersion: &awsathena.CfnWorkGroup_EngineVersionProperty{
				SelectedEngineVersion: jsii.String("Athena engine version 3"),
			},
			ResultConfiguration: &awsathena.CfnWorkGroup_ResultConfigurationProperty{
				OutputLocation: jsii.String("s3://" + *props.Results.BucketName() + "/results/"),
				EncryptionConfiguration: &awsathena.CfnWorkGroup_EncryptionConfigurationProperty{
					EncryptionOption: jsii.String("SSE_S3"),
				},
			},
		},
	})
	cat.WorkGroup = wg

	qs, err := queries.All()
	if err != nil {
		return nil, fmt.Errorf("loading the named queries: %w", err)
	}
	for _, q := range qs {
		nq := awsathena.NewCfnNamedQuery(c, jsii.String("Query"+tableID(q.Name)), &awsathena.CfnNamedQueryProps{
			Name:        jsii.String(q.Name),
			Description: jsii.String(truncate(q.Description, 1024)),
			Database:    jsii.String(dbName),
			QueryString: jsii.String(q.SQL),
			WorkGroup:   wg.Ref(),
		})
		nq.Node().AddDependency(db)
		cat.Queries = append(cat.Queries, nq)
	}
	return cat, nil
}

// tableID turns snake_case into a CamelCase construct id.
func tableID(name string) string {
	var b strings.Builder
	for _, part := range strings.FieldsFunc(name, func(r rune) bool { return r == '_' || r == '-' || r == '.' }) {
		b.WriteString(strings.ToUpper(part[:1]) + part[1:])
	}
	return b.String()
}

func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return s[:n]
}

func strMap(m map[string]string) map[string]interface{} {
	out := make(map[string]interface{}, len(m))
	for k, v := range m {
		out[k] = v
	}
	return out
}

func columns(cols []glue.Column) *[]interface{} {
	out := make([]interface{}, 0, len(cols))
	for _, c := range cols {
		p := &awsglue.CfnTable_ColumnProperty{Name: jsii.String(c.Name), Type: jsii.String(c.Type)}
		if c.Comment != "" {
			p.Comment = jsii.String(c.Comment)
		}
		out = append(out, p)
	}
	return &out
}

// inRawBucket tells the tables Firehose writes (raw bucket) from the views.
func inRawBucket(t glue.Table) bool {
	return t.Name == glue.RawEvents.Name || t.Name == glue.Errors.Name
}
