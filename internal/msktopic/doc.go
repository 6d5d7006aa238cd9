// Package msktopic keeps one Kafka topic in the state a CloudFormation custom
// resource describes: it creates the topic (partition count, retention),
// raises its partition count on update, and deletes it on stack deletion
// when asked to. The stack deploys it for MSK Serverless, whose topics
// CloudFormation cannot create (AWS::MSK::Topic serves provisioned clusters
// only). It talks the Kafka admin protocol (franz-go's kadm) and is not a
// producer or consumer: streaming/ owns those.
package msktopic
