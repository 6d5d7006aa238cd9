package main

import (
	"fmt"
	"strings"

	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsquicksight"
	"github.com/aws/constructs-go/constructs/v10"
	"github.com/aws/jsii-runtime-go"

	"github.com/lambdastack/lambdastack/glue"
	"github.com/lambdastack/lambdastack/queries"
)

// QuickSightProps wires QuickSight to the catalog.
type QuickSightProps struct {
	Config  Config
	Catalog *Catalog
}

// QuickSight is an Athena data source on the stage's workgroup, direct-query
// data sets on the merged view (hourly and daily rows), the users view
// (daily rows over all sources: per event type and all types), the errors
// table and daily, weekly and monthly active users per day (merged in SQL
// from the merged view's sketches: QuickSight cannot read binary columns),
// and a dashboard defined as code: events per hour by layer, distinct users
// per day (all types and per type), DAU/WAU/MAU, top event types and
// rejected records by reason. Everything is owned by
// Config.QuickSightPrincipalARN. The account's QuickSight service role must
// be allowed to read the views, raw and results buckets (QuickSight's
// "Security & permissions" page); CloudFormation cannot grant that.
type QuickSight struct {
	constructs.Construct
	DataSource  awsquicksight.CfnDataSource
	DataSets    map[string]awsquicksight.CfnDataSet
	Dashboard   awsquicksight.CfnDashboard
	DashboardID string
}

var (
	dataSourceActions = []string{
		"quicksight:DescribeDataSource", "quicksight:DescribeDataSourcePermissions", "quicksight:PassDataSource",
		"quicksight:UpdateDataSource", "quicksight:DeleteDataSource", "quicksight:UpdateDataSourcePermissions",
	}
	dataSetActions = []string{
		"quicksight:DescribeDataSet", "quicksight:DescribeDataSetPermissions", "quicksight:PassDataSet",
		"quicksight:DescribeIngestion", "quicksight:ListIngestions", "quicksight:UpdateDataSet",
		"quicksight:DeleteDataSet", "quicksight:CreateIngestion", "quicksight:CancelIngestion",
		"quicksight:UpdateDataSetPermissions",
	}
	dashboardActions = []string{
		"quicksight:DescribeDashboard", "quicksight:ListDashboardVersions", "quicksight:UpdateDashboardPermissions",
		"quicksight:QueryDashboard", "quicksight:UpdateDashboard", "quicksight:DeleteDashboard",
		"quicksight:DescribeDashboardPermissions", "quicksight:UpdateDashboardPublishedVersion",
	}
)

// quickSightType maps a Glue column type to a QuickSight input column type;
// false for types QuickSight cannot read (the sketch).
func quickSightType(glueType string) (string, bool) {
	switch glueType {
	case glue.TString:
		return "STRING", true
	case glue.TBigint:
		return "INTEGER", true
	case glue.TDouble:
		return "DECIMAL", true
	case glue.TTimestamp:
		return "DATETIME", true
	}
	return "", false
}

// NewQuickSight creates the data source, data sets and dashboard.
func NewQuickSight(scope constructs.Construct, id string, props *QuickSightProps) *QuickSight {
	c := constructs.NewConstruct(scope, &id)
	cfg := props.Config
	account := awscdk.Stack_Of(c).Account()
	prefix := cfg.StackName()
	principal := jsii.String(cfg.QuickSightPrincipalARN)

	src := awsquicksight.NewCfnDataSource(c, jsii.String("Athena"), &awsquicksight.CfnDataSourceProps{
		AwsAccountId: account,
		DataSourceId: jsii.String(prefix + "-athena"),
		Name:         jsii.String(prefix + " Athena"),
		Type:         jsii.String("ATHENA"),
		DataSourceParameters: &awsquicksight.CfnDataSource_DataSourceParametersProperty{
			AthenaParameters: &awsquicksight.CfnDataSource_AthenaParametersProperty{
				WorkGroup: props.Catalog.WorkGroup.Ref(),
			},
		},
		Permissions: &[]interface{}{&awsquicksight.CfnDataSource_ResourcePermissionProperty{
			Principal: principal, Actions: jsii.Strings(dataSourceActions...),
		}},
	})

	q := &QuickSight{Construct: c, DataSource: src, DataSets: map[string]awsquicksight.CfnDataSet{}}
	db := props.Catalog.DatabaseName
	merged := glue.MergedView
	errs := glue.Errors
	viewCols := func(t glue.Table) ([]string, *[]interface{}) {
		var names []string
		var cols []interface{}
		add := func(c glue.Column) {
			if qt, ok := quickSightType(c.Type); ok {
				names = append(names, c.Name)
				cols = append(cols, &awsquicksight.CfnDataSet_InputColumnProperty{Name: jsii.String(c.Name), Type: jsii.String(qt)})
			}
		}
		for _, c := range t.Columns {
			add(c)
		}
		for _, p := range t.PartitionKeys {
			add(p)
		}
		return names, &cols
	}
	dataSet := func(key, name, sql string, cols *[]interface{}) {
		ds := awsquicksight.NewCfnDataSet(c, jsii.String(tableID(key)), &awsquicksight.CfnDataSetProps{
			AwsAccountId: account,
			DataSetId:    jsii.String(prefix + "-" + key),
			Name:         jsii.String(prefix + " " + name),
			ImportMode:   jsii.String(cfg.QuickSightImportMode()),
			PhysicalTableMap: map[string]interface{}{
				key: &awsquicksight.CfnDataSet_PhysicalTableProperty{
					CustomSql: &awsquicksight.CfnDataSet_CustomSqlProperty{
						DataSourceArn: src.AttrArn(),
						Name:          jsii.String(key),
						SqlQuery:      jsii.String(sql),
						Columns:       cols,
					},
				},
			},
			Permissions: &[]interface{}{&awsquicksight.CfnDataSet_ResourcePermissionProperty{
				Principal: principal, Actions: jsii.Strings(dataSetActions...),
			}},
		})
		q.DataSets[key] = ds
	}
	mNames, mCols := viewCols(merged)
	for _, g := range []string{glue.GranularityHour, glue.GranularityDay} {
		sql := fmt.Sprintf("SELECT %s FROM \"%s\".\"%s\" WHERE granularity = '%s' AND dt >= date_format(current_date - INTERVAL '90' DAY, '%%Y-%%m-%%d')",
			strings.Join(mNames, ", "), db, merged.Name, g)
		dataSet("merged-"+g, "merged view ("+g+")", sql, mCols)
	}
	// Distinct users per day over all sources, per event type and over
	// all types (event_type '*', shown as "all types"): the users view's
	// rows, each the merged sketch of its users, so nothing is added up.
	users := glue.UsersView
	uNames, uCols := viewCols(users)
	uSel := make([]string, len(uNames))
	for i, n := range uNames {
		uSel[i] = n
		if n == "event_type" {
			uSel[i] = fmt.Sprintf("CASE WHEN event_type = '%s' THEN 'all types' ELSE event_type END AS event_type", glue.All)
		}
	}
	dataSet("users-day", "distinct users per day", fmt.Sprintf(
		"SELECT %s FROM \"%s\".\"%s\" WHERE granularity = '%s' AND source = '%s' AND dt >= date_format(current_date - INTERVAL '90' DAY, '%%Y-%%m-%%d')",
		strings.Join(uSel, ", "), db, users.Name, glue.GranularityDay, glue.All), uCols)
	// DAU, WAU and MAU per day: the active_users_per_day named query, so
	// the SQL QuickSight runs is the one tested on DuckDB.
	if sql, err := activeUsersSQL(db); err != nil {
		awscdk.Annotations_Of(c).AddError(jsii.String(err.Error()))
	} else {
		dataSet("active-users", "active users per day (DAU, WAU, MAU)", sql, &[]interface{}{
			&awsquicksight.CfnDataSet_InputColumnProperty{Name: jsii.String("day"), Type: jsii.String("DATETIME")},
			&awsquicksight.CfnDataSet_InputColumnProperty{Name: jsii.String("dau"), Type: jsii.String("INTEGER")},
			&awsquicksight.CfnDataSet_InputColumnProperty{Name: jsii.String("wau"), Type: jsii.String("INTEGER")},
			&awsquicksight.CfnDataSet_InputColumnProperty{Name: jsii.String("mau"), Type: jsii.String("INTEGER")},
		})
	}
	eNames, eCols := viewCols(errs)
	dataSet("errors", "rejected records", fmt.Sprintf(
		"SELECT %s FROM \"%s\".\"%s\" WHERE dt >= date_format(current_date - INTERVAL '30' DAY, '%%Y-%%m-%%d')",
		strings.Join(eNames, ", "), db, errs.Name), eCols)

	q.DashboardID = prefix + "-overview"
	dash := awsquicksight.NewCfnDashboard(c, jsii.String("Dashboard"), &awsquicksight.CfnDashboardProps{
		AwsAccountId: account,
		DashboardId:  jsii.String(q.DashboardID),
		Name:         jsii.String("lambdastack " + cfg.Stage + " overview"),
		Permissions: &[]interface{}{&awsquicksight.CfnDashboard_ResourcePermissionProperty{
			Principal: principal, Actions: jsii.Strings(dashboardActions...),
		}},
	})
	// The definition is written in CloudFormation's own shape: it is long,
	// and cfn-lint checks it against the resource schema.
	activeArn := ""
	if ds, ok := q.DataSets["active-users"]; ok {
		activeArn = *ds.AttrArn()
	}
	dash.AddPropertyOverride(jsii.String("Definition"), dashboardDefinition(
		*q.DataSets["merged-hour"].AttrArn(), *q.DataSets["users-day"].AttrArn(), *q.DataSets["errors"].AttrArn(), activeArn))
	q.Dashboard = dash
	return q
}

// activeUsersDays is how many days back the active-users data set reports.
const activeUsersDays = 90

// activeUsersSQL is the active_users_per_day named query as custom SQL for
// the data set: its since parameter the day activeUsersDays ago, the merged
// view qualified with the database, the header comments left out.
func activeUsersSQL(db string) (string, error) {
	q, err := queries.Get("active_users_per_day")
	if err != nil {
		return "", fmt.Errorf("the active-users data set: %w", err)
	}
	since := fmt.Sprintf("date_format(current_date - INTERVAL '%d' DAY, '%%Y-%%m-%%d')", activeUsersDays)
	vals := make([]queries.Value, len(q.Params))
	for i, p := range q.Params {
		vals[i] = queries.Value{Param: p, Literal: since}
	}
	sql, err := q.Substitute(vals)
	if err != nil {
		return "", fmt.Errorf("the active-users data set: %w", err)
	}
	var body []string
	for _, line := range strings.Split(sql, "\n") {
		if len(body) > 0 || !strings.HasPrefix(strings.TrimSpace(line), "--") {
			body = append(body, line)
		}
	}
	from := "FROM " + glue.MergedView.Name + " "
	out := strings.Replace(strings.Join(body, "\n"), from, fmt.Sprintf("FROM \"%s\".\"%s\" ", db, glue.MergedView.Name), 1)
	if !strings.Contains(out, fmt.Sprintf("\"%s\".\"%s\"", db, glue.MergedView.Name)) {
		return "", fmt.Errorf("the active-users data set: query %s does not read %q", q.Name, from)
	}
	return out, nil
}

type obj = map[string]interface{}

func col(ds, name string) obj { return obj{"DataSetIdentifier": ds, "ColumnName": name} }

func title(s string) obj {
	return obj{"Visibility": "VISIBLE", "FormatText": obj{"PlainText": s}}
}

func sumOf(fieldID, ds, name string) obj {
	return obj{"NumericalMeasureField": obj{
		"FieldId": fieldID, "Column": col(ds, name),
		"AggregationFunction": obj{"SimpleNumericalAggregation": "SUM"},
	}}
}

func dateDim(fieldID, ds, name, granularity string) obj {
	return obj{"DateDimensionField": obj{"FieldId": fieldID, "Column": col(ds, name), "DateGranularity": granularity}}
}

func catDim(fieldID, ds, name string) obj {
	return obj{"CategoricalDimensionField": obj{"FieldId": fieldID, "Column": col(ds, name)}}
}

func barChart(id, text, orientation string, category, values, colors []interface{}, sort []interface{}) obj {
	wells := obj{"Category": category, "Values": values}
	if colors != nil {
		wells["Colors"] = colors
	}
	conf := obj{
		"FieldWells":      obj{"BarChartAggregatedFieldWells": wells},
		"Orientation":     orientation,
		"BarsArrangement": "STACKED",
	}
	if sort != nil {
		conf["SortConfiguration"] = obj{"CategorySort": sort}
	}
	return obj{"BarChartVisual": obj{"VisualId": id, "Title": title(text), "ChartConfiguration": conf}}
}

// dashboardDefinition is the dashboard's one sheet with five visuals (four
// when activeArn is empty).
func dashboardDefinition(hourArn, usersArn, errorsArn, activeArn string) obj {
	const hour, users, errs, active = "merged_hour", "users_day", "errors", "active_users"
	eventsPerHour := barChart("events-per-hour", "Events per hour by layer (batch before the watermark, speed after)", "VERTICAL",
		[]interface{}{dateDim("eph-window", hour, "window_start", "HOUR")},
		[]interface{}{sumOf("eph-events", hour, "events")},
		[]interface{}{catDim("eph-layer", hour, "layer")}, nil)
	usersPerDay := obj{"LineChartVisual": obj{
		"VisualId": "users-per-day",
		"Title":    title("Distinct users per day: all types (daily active users) and per event type"),
		"ChartConfiguration": obj{
			"FieldWells": obj{"LineChartAggregatedFieldWells": obj{
				// One row per day and type: the sum is that row.
				"Category": []interface{}{dateDim("upd-day", users, "window_start", "DAY")},
				"Values":   []interface{}{sumOf("upd-users", users, "users")},
				"Colors":   []interface{}{catDim("upd-type", users, "event_type")},
			}},
		},
	}}
	topTypes := barChart("top-event-types", "Top event types", "HORIZONTAL",
		[]interface{}{catDim("top-type", hour, "event_type")},
		[]interface{}{sumOf("top-events", hour, "events")},
		nil,
		[]interface{}{obj{"FieldSort": obj{"FieldId": "top-events", "Direction": "DESC"}}})
	rejected := barChart("rejected-by-reason", "Rejected records by reason per day", "VERTICAL",
		[]interface{}{catDim("rej-dt", errs, "dt")},
		[]interface{}{obj{"CategoricalMeasureField": obj{
			"FieldId": "rej-count", "Column": col(errs, "reason_code"), "AggregationFunction": "COUNT",
		}}},
		[]interface{}{catDim("rej-reason", errs, "reason_code")}, nil)
	decls := []interface{}{
		obj{"Identifier": hour, "DataSetArn": hourArn},
		obj{"Identifier": users, "DataSetArn": usersArn},
		obj{"Identifier": errs, "DataSetArn": errorsArn},
	}
	visuals := []interface{}{eventsPerHour, usersPerDay}
	if activeArn != "" {
		decls = append(decls, obj{"Identifier": active, "DataSetArn": activeArn})
		visuals = append(visuals, obj{"LineChartVisual": obj{
			"VisualId": "active-users",
			"Title":    title("Daily, weekly and monthly active users (each user once per day, 7 and 30 days)"),
			"ChartConfiguration": obj{
				"FieldWells": obj{"LineChartAggregatedFieldWells": obj{
					// One row per day: the sum is that row.
					"Category": []interface{}{dateDim("au-day", active, "day", "DAY")},
					"Values": []interface{}{sumOf("au-dau", active, "dau"), sumOf("au-wau", active, "wau"),
						sumOf("au-mau", active, "mau")},
				}},
			},
		}})
	}
	return obj{
		"DataSetIdentifierDeclarations": decls,
		"Sheets": []interface{}{obj{
			"SheetId": "overview",
			"Name":    "Overview",
			"Visuals": append(visuals, topTypes, rejected),
		}},
	}
}
