# ruff: noqa: E501  (templates are kept verbatim, long lines included)
"""Real-world chat templates (as published with the models) and template-injection payloads."""

from __future__ import annotations

LLAMA3 = (
    "{% set loop_messages = messages %}{% for message in loop_messages %}"
    "{% set content = '<|start_header_id|>' + message['role'] + '<|end_header_id|>\n\n'"
    "+ message['content'] | trim + '<|eot_id|>' %}{% if loop.index0 == 0 %}"
    "{% set content = bos_token + content %}{% endif %}{{ content }}{% endfor %}"
    "{% if add_generation_prompt %}{{ '<|start_header_id|>assistant<|end_header_id|>\n\n' }}"
    "{% endif %}"
)

MISTRAL = (
    "{{ bos_token }}{% for message in messages %}"
    "{% if (message['role'] == 'user') != (loop.index0 % 2 == 0) %}"
    "{{ raise_exception('Conversation roles must alternate user/assistant/user/assistant/...') }}"
    "{% endif %}{% if message['role'] == 'user' %}{{ '[INST] ' + message['content'] + ' [/INST]' }}"
    "{% elif message['role'] == 'assistant' %}{{ message['content'] + eos_token}}"
    "{% else %}{{ raise_exception('Only user and assistant roles are supported!') }}"
    "{% endif %}{% endfor %}"
)

CHATML = (
    "{% for message in messages %}{{'<|im_start|>' + message['role'] + '\n' + message['content']"
    " + '<|im_end|>' + '\n'}}{% endfor %}{% if add_generation_prompt %}"
    "{{ '<|im_start|>assistant\n' }}{% endif %}"
)

GEMMA = (
    "{{ bos_token }}{% if messages[0]['role'] == 'system' %}"
    "{{ raise_exception('System role not supported') }}{% endif %}"
    "{% for message in messages %}{% if (message['role'] == 'user') != (loop.index0 % 2 == 0) %}"
    "{{ raise_exception('Conversation roles must alternate user/assistant/user/assistant/...') }}"
    "{% endif %}{% if (message['role'] == 'assistant') %}{% set role = 'model' %}{% else %}"
    "{% set role = message['role'] %}{% endif %}{{ '<start_of_turn>' + role + '\n' + "
    "message['content'] | trim + '<end_of_turn>\n' }}{% endfor %}{% if add_generation_prompt %}"
    "{{'<start_of_turn>model\n'}}{% endif %}"
)

QWEN25_TOOLS = """{%- if tools %}
    {{- '<|im_start|>system\\n' }}
    {%- if messages[0]['role'] == 'system' %}
        {{- messages[0]['content'] }}
    {%- else %}
        {{- 'You are Qwen, created by Alibaba Cloud. You are a helpful assistant.' }}
    {%- endif %}
    {{- "\\n\\n# Tools\\n\\nYou may call one or more functions to assist with the user query.\\n\\nYou are provided with function signatures within <tools></tools> XML tags:\\n<tools>" }}
    {%- for tool in tools %}
        {{- "\\n" }}
        {{- tool | tojson }}
    {%- endfor %}
    {{- "\\n</tools>\\n\\nFor each function call, return a json object with function name and arguments within <tool_call></tool_call> XML tags:\\n<tool_call>\\n{\\"name\\": <function-name>, \\"arguments\\": <args-json-object>}\\n</tool_call><|im_end|>\\n" }}
{%- else %}
    {%- if messages[0]['role'] == 'system' %}
        {{- '<|im_start|>system\\n' + messages[0]['content'] + '<|im_end|>\\n' }}
    {%- else %}
        {{- '<|im_start|>system\\nYou are Qwen, created by Alibaba Cloud. You are a helpful assistant.<|im_end|>\\n' }}
    {%- endif %}
{%- endif %}
{%- for message in messages %}
    {%- if (message.role == "user") or (message.role == "system" and not loop.first) or (message.role == "assistant" and not message.tool_calls) %}
        {{- '<|im_start|>' + message.role + '\\n' + message.content + '<|im_end|>' + '\\n' }}
    {%- elif message.role == "assistant" %}
        {{- '<|im_start|>' + message.role }}
        {%- if message.content %}
            {{- '\\n' + message.content }}
        {%- endif %}
        {%- for tool_call in message.tool_calls %}
            {%- if tool_call.function is defined %}
                {%- set tool_call = tool_call.function %}
            {%- endif %}
            {{- '\\n<tool_call>\\n{"name": "' }}
            {{- tool_call.name }}
            {{- '", "arguments": ' }}
            {{- tool_call.arguments | tojson }}
            {{- '}\\n</tool_call>' }}
        {%- endfor %}
        {{- '<|im_end|>\\n' }}
    {%- elif message.role == "tool" %}
        {%- if (loop.index0 == 0) or (messages[loop.index0 - 1].role != "tool") %}
            {{- '<|im_start|>user' }}
        {%- endif %}
        {{- '\\n<tool_response>\\n' }}
        {{- message.content }}
        {{- '\\n</tool_response>' }}
        {%- if loop.last or (messages[loop.index0 + 1].role != "tool") %}
            {{- '<|im_end|>\\n' }}
        {%- endif %}
    {%- endif %}
{%- endfor %}
{%- if add_generation_prompt %}
    {{- '<|im_start|>assistant\\n' }}
{%- endif %}
"""

LLAMA31_TOOLS = """{{- bos_token }}
{%- if custom_tools is defined %}
    {%- set tools = custom_tools %}
{%- endif %}
{%- if not tools_in_user_message is defined %}
    {%- set tools_in_user_message = true %}
{%- endif %}
{%- if not date_string is defined %}
    {%- set date_string = "26 Jul 2024" %}
{%- endif %}
{%- if not tools is defined %}
    {%- set tools = none %}
{%- endif %}
{%- if messages[0]['role'] == 'system' %}
    {%- set system_message = messages[0]['content']|trim %}
    {%- set messages = messages[1:] %}
{%- else %}
    {%- set system_message = "" %}
{%- endif %}
{{- "<|start_header_id|>system<|end_header_id|>\\n\\n" }}
{%- if builtin_tools is defined or tools is not none %}
    {{- "Environment: ipython\\n" }}
{%- endif %}
{%- if builtin_tools is defined %}
    {{- "Tools: " + builtin_tools | reject('equalto', 'code_interpreter') | join(", ") + "\\n\\n"}}
{%- endif %}
{{- "Cutting Knowledge Date: December 2023\\n" }}
{{- "Today Date: " + date_string + "\\n\\n" }}
{{- system_message }}
{{- "<|eot_id|>" }}
{%- for message in messages %}
    {%- if not (message.role == 'ipython' or message.role == 'tool' or 'tool_calls' in message) %}
        {{- '<|start_header_id|>' + message['role'] + '<|end_header_id|>\\n\\n'+ message['content'] | trim + '<|eot_id|>' }}
    {%- elif 'tool_calls' in message %}
        {%- if not message.tool_calls|length == 1 %}
            {{- raise_exception("This model only supports single tool-calls at once!") }}
        {%- endif %}
        {%- set tool_call = message.tool_calls[0].function %}
        {{- '<|start_header_id|>assistant<|end_header_id|>\\n\\n' -}}
        {{- '{"name": "' + tool_call.name + '", ' }}
        {{- '"parameters": ' }}
        {{- tool_call.arguments | tojson }}
        {{- "}" }}
        {{- "<|eot_id|>" }}
    {%- elif message.role == "tool" or message.role == "ipython" %}
        {{- "<|start_header_id|>ipython<|end_header_id|>\\n\\n" }}
        {%- if message.content is mapping or message.content is iterable %}
            {{- message.content | tojson }}
        {%- else %}
            {{- message.content }}
        {%- endif %}
        {{- "<|eot_id|>" }}
    {%- endif %}
{%- endfor %}
{%- if add_generation_prompt %}
    {{- '<|start_header_id|>assistant<|end_header_id|>\\n\\n' }}
{%- endif %}
"""

PHI3_NAMESPACE = (
    "{% set ns = namespace(system='', found=false) %}{% for message in messages %}"
    "{% if message['role'] == 'system' %}{% set ns.system = message['content'].strip() %}"
    "{% set ns.found = true %}{% endif %}{% endfor %}{{ ns.system }}"
    "{% for message in messages | selectattr('role', 'equalto', 'user') %}"
    "{{ '<|user|>\n' + message['content'] + '<|end|>\n' }}{% endfor %}"
    "{% for key, value in (metadata or {}).items() %}{{ key }}={{ value }}{% endfor %}"
    "{% for m in messages | map(attribute='content') %}{{ m | length }}{% endfor %}"
    "{% generation %}{{ '<|assistant|>' }}{% endgeneration %}"
    "{% for message in messages %}{% if loop.last %}{% break %}{% endif %}{% endfor %}"
)

BENIGN = {"llama3": LLAMA3, "mistral": MISTRAL, "chatml": CHATML, "gemma": GEMMA,
          "qwen2.5-tools": QWEN25_TOOLS, "llama3.1-tools": LLAMA31_TOOLS,
          "phi3-namespace": PHI3_NAMESPACE}

MALICIOUS = {
    # The payload published with CVE-2024-34359 (llama-cpp-python), canary command only.
    "cve-2024-34359": "{% for x in ().__class__.__base__.__subclasses__() %}{% if \"warning\" in "
                      "x.__name__ %}{{x()._module.__builtins__['__import__']('os').popen("
                      "\"echo MLWARDEN-CANARY\").read()}}{%endif%}{% endfor %}",
    "globals-via-lipsum": "{{ lipsum.__globals__['os'].popen('id').read() }}",
    "cycler-init": "{{ cycler.__init__.__globals__.os.popen('id').read() }}",
    "attr-filter": "{{ ()|attr('__class__')|attr('__base__') }}",
    "attr-filter-concat": "{{ ()|attr('__cla' ~ 'ss__') }}",
    "item-concat": "{{ ''['__cl' + 'ass__'] }}",
    "format-filter": "{{ ()|attr('%c%cclass%c%c'|format(95,95,95,95)) }}",
    "join-pieces": "{{ ()|attr(['_','_','class','_','_']|join) }}",
    "join-sep": "{{ ()|attr(['', 'class', '']|join('__')) }}",
    "replace-method": "{{ ()|attr('XXclassXX'.replace('XX', '__')) }}",
    "set-variable": "{% set a = '__cla' %}{% set b = 'ss__' %}{{ ()|attr(a ~ b) }}",
    "reverse": "{{ ()|attr('__ssalc__'|reverse) }}",
    "slice": "{{ ()|attr('x__class__'[1:]) }}",
    "multiply": "{{ ()|attr('_' * 2 ~ 'class' ~ '_' * 2) }}",
    "map-attribute": "{{ [()]|map(attribute='__class__')|list }}",
    "selectattr": "{{ [()]|selectattr('__class__.__name__')|list }}",
    "map-attr-filter": "{{ [()]|map('attr', '__class__')|list }}",
    "format-string-field": "{{ '{0.__class__.__mro__}'.format(messages) }}",
    "self-context": "{{ self._TemplateReference__context }}",
    "getitem-subclasses": "{{ ''['__class__']['__mro__'][1]['__subclasses__']() }}",
    "mod-format": "{{ ()|attr('__%s__' % 'class') }}",
    "private-attr": "{{ x._module }}",
    "frame-walk": "{{ g.gi_frame.f_back.f_globals }}",
    "escaped-underscores": "{{ ''['\\x5f\\x5fclass\\x5f\\x5f'] }}",
    "unicode-escapes": "{{ ()|attr('\\u005f\\u005fclass\\u005f\\u005f') }}",
    "character-extraction": "{% set u = (()|select|string)[24] %}{{ ()|attr(u ~ u ~ 'class' ~ u ~ u) }}",
    "character-extraction-list": "{{ ()[(()|select|string|list)|first] }}",
    "namespace-dunder": "{% set ns = namespace() %}{% set ns.__init__ = 1 %}",
    "set-block": "{% set n %}__class__{% endset %}{{ ()|attr(n) }}",
    "macro-default": "{% macro m(a, b='__globals__') %}{{ a|attr(b) }}{% endmacro %}{{ m(lipsum) }}",
    "loop-over-set-list": "{% set parts = ['__cla', 'ss__'] %}{% set ns = namespace(n='') %}"
                          "{% for p in parts %}{{ ()|attr(p ~ 'x') }}{% endfor %}",
    "loop-variable-parts": "{% for p in ['__class__'] %}{{ ()|attr(p) }}{% endfor %}",
}

UNVERIFIABLE = {
    "attr-from-input": "{{ ()|attr(messages[0]['content']) }}",
    "attr-built-from-input": "{{ ()|attr(messages[0]['content'] ~ 'x') }}",
}

LOADS = {
    "include": "{% include 'other.j2' %}",
    "import": "{% import 'macros.j2' as m %}{{ m.x() }}",
    "extends": "{% extends '/etc/passwd' %}",
}
