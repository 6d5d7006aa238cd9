#!/usr/bin/env python3
"""The AWS Firehose processing blueprint's logic (kinesis-firehose-process-record),
with our validation: the runtime's json.loads of the event, then per record
base64 decode, json.loads, checks, enrichment, json.dumps, base64 encode, and
json.dumps of the response. Prints one JSON line like bench/transform.

With --file, it does what `lambdastack transform --event FILE` does instead:
reads every event of FILE (JSON values one after another, as
`lambdastack generate --format firehose` writes them), runs the runtime's
decode, the handler and the runtime's encode on each in turn, and prints one
response per line to stdout, once; time it from outside (bench/transform.sh)."""
import base64, json, re, sys, time
from datetime import datetime, timezone, timedelta

EVENT_TYPE = re.compile(r'^[a-z][a-z0-9_.-]{0,63}$')

def check(m, received):
    for f in ('event_id', 'event_type', 'user_id'):
        if not isinstance(m.get(f), str) or not m[f]:
            raise ValueError(f + ' missing or not a string')
    if not EVENT_TYPE.match(m['event_type']):
        raise ValueError('bad event_type')
    v = m.get('event_time')
    if isinstance(v, str):
        t = datetime.fromisoformat(v.replace('Z', '+00:00')).astimezone(timezone.utc)
    elif isinstance(v, (int, float)) and not isinstance(v, bool):
        t = datetime.fromtimestamp(v / 1000, timezone.utc)
    else:
        raise ValueError('event_time missing')
    if t > received + timedelta(minutes=15):
        raise ValueError('future_time')
    if 'value' in m and (not isinstance(m['value'], (int, float)) or isinstance(m['value'], bool)):
        raise ValueError('value not a number')
    a = m.get('attributes')
    if a is not None and (not isinstance(a, dict) or len(a) > 50 or not all(isinstance(x, str) for x in a.values())):
        raise ValueError('bad attributes')
    if not m.get('source'):
        m['source'] = 'unknown'
    return t

def fmt(t):
    return t.strftime('%Y-%m-%dT%H:%M:%S.') + '%03dZ' % (t.microsecond // 1000)

def lambda_handler(event, context):
    output = []
    for record in event['records']:
        received = datetime.fromtimestamp(record['approximateArrivalTimestamp'] / 1000, timezone.utc)
        raw = base64.b64decode(record['data'])
        try:
            m = json.loads(raw)
            if not isinstance(m, dict):
                raise ValueError('not an object')
            t = check(m, received)
            m['event_time'] = fmt(t)
            m['received_time'] = fmt(received)
            m['dt'], m['hour'] = t.strftime('%Y-%m-%d'), t.strftime('%H')
            data = json.dumps(m, separators=(',', ':')) + '\n'
            keys = {'route': 'events', 'dt': m['dt'], 'hour': m['hour']}
        except ValueError as e:  # json.JSONDecodeError and UnicodeDecodeError are ValueErrors
            data = json.dumps({'reason': 'rejected', 'detail': str(e), 'received_time': fmt(received),
                               'record': raw.decode('utf-8', 'replace')}, separators=(',', ':')) + '\n'
            keys = {'route': 'errors/rejected', 'dt': received.strftime('%Y-%m-%d'), 'hour': received.strftime('%H')}
        output.append({'recordId': record['recordId'], 'result': 'Ok',
                       'data': base64.b64encode(data.encode('utf-8')).decode('ascii'),
                       'metadata': {'partitionKeys': keys}})
    return {'records': output}

def invoke(payload):
    # What the Lambda runtime does around the handler.
    return json.dumps(lambda_handler(json.loads(payload), None))

def transform_file(path):
    # json.loads per event as the Lambda runtime does; raw_decode finds
    # where each event ends in the same pass.
    text = open(path, 'rb').read().decode('utf-8')
    dec, i, out = json.JSONDecoder(), 0, sys.stdout
    ws = re.compile(r'[ \t\n\r]*')
    while True:
        i = ws.match(text, i).end()
        if i == len(text):
            break
        event, i = dec.raw_decode(text, i)
        out.write(json.dumps(lambda_handler(event, None)))
        out.write('\n')

def main():
    if sys.argv[1] == '--file':
        transform_file(sys.argv[2])
        return
    payload = open(sys.argv[1], 'rb').read()
    seconds = float(sys.argv[2]) if len(sys.argv) > 2 else 5
    out = invoke(payload)
    records = len(json.loads(out)['records'])
    iters = 0
    w0, c0 = time.perf_counter(), time.process_time()
    while time.perf_counter() - w0 < seconds or iters < 2:
        invoke(payload)
        iters += 1
    wall, cpu = time.perf_counter() - w0, time.process_time() - c0
    n = records * iters
    print(json.dumps({'impl': 'python ' + sys.version.split()[0], 'records': records, 'iterations': iters,
                      'payload_bytes': len(payload), 'response_bytes': len(out), 'wall_s': wall, 'cpu_s': cpu,
                      'records_per_s_wall': n / wall, 'records_per_s_cpu': n / cpu}))

if __name__ == '__main__':
    main()
