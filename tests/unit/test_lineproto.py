from yizhan.server.application.lineproto import encode_point, point_time_ns


def test_points_escape_tags_and_strings_and_type_fields():
    line = encode_point(
        "events",
        {"station": "a b", "device": "d,1", "empty": ""},
        {"message": 'say "hi"\\', "n": 3, "x": 1.5, "ok": True},
        7,
    )
    assert line == r'events,device=d\,1,station=a\ b message="say \"hi\"\\",n=3i,x=1.5,ok=true 7'


def test_point_keys_separate_distinct_messages_and_merge_duplicates():
    assert point_time_ns(1763784060000, 42) == 1763784060000_000042
    assert point_time_ns(1763784060000, 1_000_042) == point_time_ns(1763784060000, 42)
    assert point_time_ns(1763784060000, 43) != point_time_ns(1763784060000, 42)
