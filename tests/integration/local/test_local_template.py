"""The template loader: short-form tags, intrinsics, conditions, Globals, and what it reads."""

from pathlib import Path

import pytest

from local.template import (
    Pseudo,
    Template,
    TemplateError,
    load_template,
    parse_template_text,
)

STANDIN = Path(__file__).parent / "standin" / "template.yaml"


def _template(text: str, **overrides: str) -> Template:
    return Template(
        parse_template_text(text), root=Path("/repo"), pseudo=Pseudo("stack"), parameter_overrides=overrides
    )


def _standin(**overrides: str) -> Template:
    return load_template(STANDIN, stack_name="stack", parameter_overrides=overrides)


def test_parse_template_text_short_tags_become_long_form():
    data = parse_template_text(
        "Resources:\n  R:\n    Type: X\n    Properties:\n"
        "      A: !Ref P\n      B: !GetAtt Q.Arn\n      C: !Sub '${AWS::Region}-x'\n"
        "      D: !If [Cond, 1, 2]\n      E: !GetAtt [Q, Attr.With.Dots]\n"
    )
    props = data["Resources"]["R"]["Properties"]
    assert props == {
        "A": {"Ref": "P"},
        "B": {"Fn::GetAtt": ["Q", "Arn"]},
        "C": {"Fn::Sub": "${AWS::Region}-x"},
        "D": {"Fn::If": ["Cond", 1, 2]},
        "E": {"Fn::GetAtt": ["Q", "Attr.With.Dots"]},
    }


def test_parse_template_text_without_resources_raises():
    with pytest.raises(TemplateError, match="no Resources"):
        parse_template_text("Parameters: {}\n")


def test_resolver_sub_with_variables_refs_and_escapes():
    template = _template("Parameters:\n  P: {Type: String, Default: v}\nResources: {R: {Type: X}}\n")
    value = template.resolve_static({"Fn::Sub": ["${P}/${X}/${AWS::StackName}/${!Literal}", {"X": "x"}]})
    assert value == "v/x/stack/${Literal}"


def test_resolver_no_value_drops_the_key_and_list_item():
    template = _template("Resources: {R: {Type: X}}\n")
    value = template.resolve_static({"a": {"Ref": "AWS::NoValue"}, "b": [1, {"Ref": "AWS::NoValue"}]})
    assert value == {"b": [1]}


def test_resolver_join_split_select_find_in_map():
    template = _template("Mappings: {M: {k: {v: found}}}\nResources: {R: {Type: X}}\n")
    assert template.resolve_static({"Fn::Join": ["-", ["a", "b"]]}) == "a-b"
    assert template.resolve_static({"Fn::Select": [1, {"Fn::Split": [",", "x,y"]}]}) == "y"
    assert template.resolve_static({"Fn::FindInMap": ["M", "k", "v"]}) == "found"


def test_resolver_resource_ref_before_provisioning_raises():
    template = _template("Resources: {R: {Type: X}}\n")
    with pytest.raises(TemplateError, match="before the local resources exist"):
        template.resolve_static({"Ref": "R"})


def test_resolver_with_resources_resolves_ref_and_getatt():
    template = _template("Resources: {R: {Type: X}}\n")
    resolver = template.resolver(ref=lambda name: f"ref-{name}", attr=lambda name, attr: f"{name}.{attr}")
    assert resolver.resolve({"Fn::Sub": "${R} ${R.Arn}"}) == "ref-R R.Arn"


def test_resolver_unknown_name_raises():
    template = _template("Resources: {R: {Type: X}}\n")
    with pytest.raises(TemplateError, match="no such parameter or resource"):
        template.resolve_static({"Ref": "Nope"})


def test_template_parameter_without_default_needs_an_override():
    with pytest.raises(TemplateError, match="no Default"):
        _template("Parameters: {P: {Type: String}}\nResources: {R: {Type: X}}\n")


def test_template_condition_false_removes_the_resource():
    assert "PartnerRule" not in _standin().resources


def test_template_condition_true_with_override_keeps_the_resource():
    assert "PartnerRule" in _standin(PartnerBusNames="bus-a,bus-b").resources


def test_template_queues_read_redrive_and_visibility():
    queues = {q.logical_id: q for q in _standin().queues()}
    events = queues["EventQueue"]
    assert events.name == "stack-events"
    assert events.attributes["VisibilityTimeout"] == "30"
    assert events.max_receive_count == 2
    assert events.redrive_target == {"Fn::GetAtt": ["EventDeadLetterQueue", "Arn"]}
    assert queues["EventDeadLetterQueue"].attributes == {"MessageRetentionPeriod": "1209600"}


def test_template_if_condition_follows_parameter_override():
    queues = {q.logical_id: q for q in _standin(Stage="prod").queues()}
    assert queues["EventQueue"].attributes["VisibilityTimeout"] == "180"


def test_template_tables_read_key_schema_and_ttl():
    (table,) = _standin().tables()
    assert table.key_schema == [{"AttributeName": "id", "KeyType": "HASH"}]
    assert table.ttl_attribute == "expiration"


def test_template_secrets_read_name_and_value():
    (secret,) = _standin().secrets()
    assert (secret.name, secret.secret_string) == ("stack/webhook", "template-default")


def test_template_functions_merge_globals():
    functions = {f.logical_id: f for f in _standin().functions()}
    echo, worker = functions["EchoFunction"], functions["WorkerFunction"]
    assert echo.handler == "echo_fn.app.lambda_handler"
    assert echo.code_uri == STANDIN.parent / "functions" / "echo"
    assert (echo.timeout_seconds, worker.timeout_seconds) == (5, 30)
    assert echo.layers == [{"Ref": "HelperLayer"}]
    assert echo.environment["POWERTOOLS_SERVICE_NAME"] == "standin"
    assert worker.environment["DLQ_URL"] == {"Ref": "EventDeadLetterQueue"}


def test_template_routes_come_from_http_api_events():
    routes = {r.route_key: r for r in _standin().routes()}
    assert set(routes) == {"POST /echo", "GET /items/{id}", "GET /plain", "POST /enqueue"}
    assert {r.function_id for r in routes.values()} == {"EchoFunction"}
    assert routes["POST /echo"].api_id == "HttpApi"


def test_template_http_api_reads_cors_configuration():
    cors = _standin().http_apis()["HttpApi"].cors
    assert cors is not None
    assert cors.allow_origins == ("https://shop.example.com",)
    assert cors.allow_headers == ("content-type",)
    assert cors.max_age == 600


def test_template_sqs_source_reads_batching_and_response_types():
    (source,) = _standin().sqs_sources()
    assert source.function_id == "WorkerFunction"
    assert source.queue == {"Fn::GetAtt": ["EventQueue", "Arn"]}
    assert (source.batch_size, source.maximum_batching_window_seconds) == (5, 0)
    assert source.reports_batch_item_failures


def test_template_layers_resolve_content_uri():
    assert _standin().layers() == {"HelperLayer": STANDIN.parent / "layers" / "helper"}


# An explicit mapping, as template.yaml's processor has (docs/snapstart.md): the alias only with Live.
MAPPING_TEMPLATE = """
Parameters:
  Live: {Type: String, Default: 'no'}
Conditions:
  IsLive: !Equals [!Ref Live, 'yes']
Resources:
  Queue: {Type: AWS::SQS::Queue}
  Stream: {Type: AWS::Kinesis::Stream}
  Worker:
    Type: AWS::Serverless::Function
    Properties: {CodeUri: worker, Handler: app.handler, AutoPublishAlias: live}
  WorkerQueueMapping:
    Type: AWS::Lambda::EventSourceMapping
    Properties:
      EventSourceArn: !GetAtt Queue.Arn
      FunctionName: !If [IsLive, !Ref Worker.Alias, !Ref Worker]
      BatchSize: 7
      MaximumBatchingWindowInSeconds: 2
      FunctionResponseTypes: [ReportBatchItemFailures]
  WorkerStreamMapping:
    Type: AWS::Lambda::EventSourceMapping
    Properties:
      EventSourceArn: !GetAtt Stream.Arn
      FunctionName: !GetAtt Worker.Arn
      StartingPosition: LATEST
"""


def test_template_event_source_mapping_reads_queue_batching_and_response_types():
    (source,) = _template(MAPPING_TEMPLATE).sqs_sources()
    assert (source.function_id, source.queue) == ("Worker", {"Fn::GetAtt": ["Queue", "Arn"]})
    assert (source.batch_size, source.maximum_batching_window_seconds) == (7, 2)
    assert source.reports_batch_item_failures
    assert source.enabled


def test_template_event_source_mapping_condition_false_invokes_latest():
    (source,) = _template(MAPPING_TEMPLATE).sqs_sources()
    assert source.alias is None


def test_template_event_source_mapping_condition_true_invokes_the_alias():
    (source,) = _template(MAPPING_TEMPLATE, Live="yes").sqs_sources()
    assert (source.function_id, source.alias) == ("Worker", "live")


def test_template_event_source_mapping_of_an_outside_function_raises():
    text = MAPPING_TEMPLATE.replace("!If [IsLive, !Ref Worker.Alias, !Ref Worker]", "other-function")
    with pytest.raises(TemplateError, match="names no function of the template"):
        _template(text).sqs_sources()


def test_template_processor_mapping_follows_the_snapstart_parameter():
    template_yaml = Path(__file__).resolve().parents[3] / "template.yaml"
    off = load_template(template_yaml, stack_name="stack").sqs_sources()
    on = load_template(template_yaml, stack_name="stack", parameter_overrides={"SnapStart": "Enabled"})
    assert [(s.function_id, s.alias, s.reports_batch_item_failures) for s in off] == [
        ("ProcessorFunction", None, True)
    ]
    assert [(s.function_id, s.alias) for s in on.sqs_sources()] == [("ProcessorFunction", "live")]
