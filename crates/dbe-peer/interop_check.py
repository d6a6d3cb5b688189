"""Helpers of run-interop.sh (standard library only).

  items PREFIX                 the interop items (DynamoDB JSON array), ids PREFIX-1..PREFIX-6
  pick FILE ID                 the item of FILE (an array) with that Id, one line
  expect WRITERS NAME VALUE    the items of the writers (any of "p", "e", "s") where NAME = VALUE
                               (EmailDate is the compound "D-<Date>#E-<Email>", the default constructor: signed parts first), one a line
  same A B                     exit 0 when A and B hold the same items, any order
  beacons A B                  exit 0 when stored items A and B carry the same aws_dbe_b_*
                               attributes with equal values (at least 3), the same attribute
                               names, and no aws_dbe_v_1
"""

import json
import sys

# Values shared between items so that queries return several (ana twice, the same date twice).
ROWS = [
    ("ana@example.com", "123-45-0001", "2026-12-01", "open", 1),
    ("ana@example.com", "123-45-0002", "2026-12-01", "shipped", 2),
    ("bo@example.com", "123-45-0003", "2026-12-02", "open", 3),
    ("ana@example.com", "123-45-0004", "2026-11-30", "open", 40),
    ("cy@example.com", "123-45-0005", "2026-12-01", "shipped", 500),
    ("d\u00e9@example.com", "123-45-0006", "2026-12-03", "open", 6),
]


def items(prefix):
    out = []
    for n, (email, ssn, date, status, count) in enumerate(ROWS, start=1):
        out.append({
            "Id": {"S": "%s-%d" % (prefix, n)},
            "Date": {"S": date},
            "Status": {"S": status},
            "Count": {"N": str(count)},
            "Email": {"S": email},
            "Ssn": {"S": ssn},
            "Name": {"S": "Customer %s %d" % (prefix, n)},
            "Card": {"S": "4111-0000-0000-%04d" % n},
            "Address": {"S": "%d Long Street, Springfield" % n},
            "Notes": {"B": "AAECAwQFBgcICQ=="},
        })
    return out


def plain(item):
    # The comparable form: aws_dbe_* attributes (never in a decrypted item) are kept, so one
    # left over is a difference.
    return json.dumps(item, sort_keys=True, ensure_ascii=False)


def read_lines(path):
    with open(path, encoding="utf-8") as f:
        text = f.read().strip()
    if not text:
        return []
    if text.startswith("["):
        return json.loads(text)
    return [json.loads(line) for line in text.splitlines() if line.strip()]


def main(argv):
    command = argv[1]
    if command == "items":
        print(json.dumps(items(argv[2]), ensure_ascii=False, indent=1))
    elif command == "pick":
        for item in read_lines(argv[2]):
            if item["Id"]["S"] == argv[3]:
                print(plain(item))
                return 0
        return 1
    elif command == "expect":
        writers, name, value = argv[2], argv[3], argv[4]
        for prefix in writers:
            for item in items(prefix):
                if name == "EmailDate":
                    actual = "D-%s#E-%s" % (item["Date"]["S"], item["Email"]["S"])
                else:
                    actual = item[name]["S"]
                if actual == value:
                    print(plain(item))
    elif command == "same":
        a = sorted(plain(i) for i in read_lines(argv[2]))
        b = sorted(plain(i) for i in read_lines(argv[3]))
        if a != b:
            sys.stderr.write("got:\n  %s\nwanted:\n  %s\n" % ("\n  ".join(a), "\n  ".join(b)))
            return 1
    elif command == "beacons":
        a, b = read_lines(argv[2])[0], read_lines(argv[3])[0]
        ba = {k: v for k, v in a.items() if k.startswith("aws_dbe_b_")}
        bb = {k: v for k, v in b.items() if k.startswith("aws_dbe_b_")}
        if ba != bb or len(ba) < 3:
            sys.stderr.write("peer beacons %s\nenvelope beacons %s\n" % (ba, bb))
            return 1
        # The same stored shape: the DB-ESDK writes no aws_dbe_v_1, and neither may envelope.
        if sorted(a) != sorted(b) or "aws_dbe_v_1" in a:
            sys.stderr.write("stored attributes differ: peer %s, envelope %s\n" % (sorted(a), sorted(b)))
            return 1
    else:
        sys.stderr.write(__doc__)
        return 64
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
