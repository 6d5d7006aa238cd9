package transform

import "github.com/aws/aws-lambda-go/events"

// MSKEvent is a Firehose processing event from an Amazon MSK source:
// each record's data is kafkaRecordValue, with its Kafka position in
// mskRecordMetadata. Invoke reads it (and answers in kafkaRecordValue)
// as it reads an event from a Kinesis source; these types are for callers
// that build or read such events (the local Firehose, tests).
type MSKEvent struct {
	InvocationID      string      `json:"invocationId"`
	DeliveryStreamArn string      `json:"deliveryStreamArn"`
	SourceMSKArn      string      `json:"sourceMSKArn"`
	Region            string      `json:"region"`
	Records           []MSKRecord `json:"records"`
}

// MSKRecord is one record of an MSKEvent.
type MSKRecord struct {
	RecordID                    string            `json:"recordId"`
	ApproximateArrivalTimestamp int64             `json:"approximateArrivalTimestamp"` // ms since the epoch
	MSKRecordMetadata           MSKRecordMetadata `json:"mskRecordMetadata"`
	// KafkaRecordValue is the record's value; nil (JSON null) for a
	// tombstone, which the transform keeps under errors/tombstone/.
	KafkaRecordValue []byte `json:"kafkaRecordValue"`
}

// MSKRecordMetadata is where a record was in the topic.
type MSKRecordMetadata struct {
	Offset                      string `json:"offset"`
	PartitionID                 string `json:"partitionId"`
	ApproximateArrivalTimestamp int64  `json:"approximateArrivalTimestamp"`
}

// MSKResponse is the transform's answer to an MSKEvent.
type MSKResponse struct {
	Records []MSKResponseRecord `json:"records"`
}

// MSKResponseRecord is one record of an MSKResponse.
type MSKResponseRecord struct {
	RecordID         string                                       `json:"recordId"`
	Result           string                                       `json:"result"`
	KafkaRecordValue []byte                                       `json:"kafkaRecordValue,omitempty"`
	Metadata         events.KinesisFirehoseResponseRecordMetadata `json:"metadata"`
}
