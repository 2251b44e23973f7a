package io.qspec.chat;

import org.junit.jupiter.api.Test;

import java.time.Clock;
import java.time.Instant;
import java.time.ZoneOffset;
import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/**
 * Real published chat templates, rendered and compared with exact strings. The expected strings are
 * what Python Jinja2 3.1 renders with Hugging Face's settings (trim_blocks, lstrip_blocks).
 */
class ChatTemplateTest {
    /** meta-llama/Meta-Llama-3-8B-Instruct, tokenizer_config.json. */
    static final String LLAMA_3 = "{% set loop_messages = messages %}{% for message in loop_messages %}"
            + "{% set content = '<|start_header_id|>' + message['role'] + '<|end_header_id|>\n\n'+ message['content'] | trim + '<|eot_id|>' %}"
            + "{% if loop.index0 == 0 %}{% set content = bos_token + content %}{% endif %}{{ content }}{% endfor %}"
            + "{% if add_generation_prompt %}{{ '<|start_header_id|>assistant<|end_header_id|>\n\n' }}{% endif %}";

    /** meta-llama/Llama-2-7b-chat-hf, tokenizer_config.json (its string literals contain the escape {@code \n}). */
    static final String LLAMA_2 = "{% if messages[0]['role'] == 'system' %}{% set loop_messages = messages[1:] %}"
            + "{% set system_message = messages[0]['content'] %}{% else %}{% set loop_messages = messages %}"
            + "{% set system_message = false %}{% endif %}{% for message in loop_messages %}"
            + "{% if (message['role'] == 'user') != (loop.index0 % 2 == 0) %}"
            + "{{ raise_exception('Conversation roles must alternate user/assistant/user/assistant/...') }}{% endif %}"
            + "{% if loop.index0 == 0 and system_message != false %}"
            + "{% set content = '<<SYS>>\\n' + system_message + '\\n<</SYS>>\\n\\n' + message['content'] %}"
            + "{% else %}{% set content = message['content'] %}{% endif %}"
            + "{% if message['role'] == 'user' %}{{ bos_token + '[INST] ' + content.strip() + ' [/INST]' }}"
            + "{% elif message['role'] == 'assistant' %}{{ ' '  + content.strip() + ' ' + eos_token }}{% endif %}{% endfor %}";

    /** Qwen/Qwen2-7B-Instruct (ChatML), tokenizer_config.json. */
    static final String CHATML_QWEN2 = "{% for message in messages %}{% if loop.first and messages[0]['role'] != 'system' %}"
            + "{{ '<|im_start|>system\nYou are a helpful assistant.<|im_end|>\n' }}{% endif %}"
            + "{{'<|im_start|>' + message['role'] + '\n' + message['content'] + '<|im_end|>' + '\n'}}{% endfor %}"
            + "{% if add_generation_prompt %}{{ '<|im_start|>assistant\n' }}{% endif %}";

    /** Whitespace around the user and assistant text shows which templates trim. */
    static final List<ChatMessage> WITH_SYSTEM = List.of(
            ChatMessage.system("You are a terse assistant."),
            ChatMessage.user("  What is 2 + 2?\n"),
            ChatMessage.assistant(" It is 4. "));

    static final List<ChatMessage> WITHOUT_SYSTEM = List.of(
            ChatMessage.user("Hi!"),
            ChatMessage.assistant("Hello. How can I help?"),
            ChatMessage.user("Name a prime."));

    @Test
    void llama3() {
        ChatTemplate template = ChatTemplate.fromModelMetadata(LLAMA_3);

        assertThat(template.render(WITH_SYSTEM, false, "<|begin_of_text|>", "<|eot_id|>")).isEqualTo(
                "<|begin_of_text|><|start_header_id|>system<|end_header_id|>\n\nYou are a terse assistant.<|eot_id|>"
                        + "<|start_header_id|>user<|end_header_id|>\n\nWhat is 2 + 2?<|eot_id|>"
                        + "<|start_header_id|>assistant<|end_header_id|>\n\nIt is 4.<|eot_id|>");
        assertThat(template.render(WITHOUT_SYSTEM, true, "<|begin_of_text|>", "<|eot_id|>")).isEqualTo(
                "<|begin_of_text|><|start_header_id|>user<|end_header_id|>\n\nHi!<|eot_id|>"
                        + "<|start_header_id|>assistant<|end_header_id|>\n\nHello. How can I help?<|eot_id|>"
                        + "<|start_header_id|>user<|end_header_id|>\n\nName a prime.<|eot_id|>"
                        + "<|start_header_id|>assistant<|end_header_id|>\n\n");
        assertThat(template.emitsBosToken()).isTrue();
    }

    @Test
    void llama2() {
        ChatTemplate template = ChatTemplate.fromModelMetadata(LLAMA_2);

        assertThat(template.render(WITH_SYSTEM, false, "<s>", "</s>")).isEqualTo(
                "<s>[INST] <<SYS>>\nYou are a terse assistant.\n<</SYS>>\n\n  What is 2 + 2? [/INST] It is 4. </s>");
        assertThat(template.render(WITHOUT_SYSTEM, true, "<s>", "</s>")).isEqualTo(
                "<s>[INST] Hi! [/INST] Hello. How can I help? </s><s>[INST] Name a prime. [/INST]");
    }

    @Test
    void llama2RaisesOnRolesThatDoNotAlternate() {
        ChatTemplate template = ChatTemplate.fromModelMetadata(LLAMA_2);

        assertThatThrownBy(() -> template.render(List.of(ChatMessage.user("a"), ChatMessage.user("b")), true, "<s>", "</s>"))
                .isInstanceOfSatisfying(ChatTemplateRaisedException.class, e -> assertThat(e.templateMessage())
                        .isEqualTo("Conversation roles must alternate user/assistant/user/assistant/..."));
    }

    @Test
    void chatMlQwen2() {
        ChatTemplate template = ChatTemplate.fromModelMetadata(CHATML_QWEN2);

        assertThat(template.render(WITH_SYSTEM, false, "", "<|im_end|>")).isEqualTo(
                "<|im_start|>system\nYou are a terse assistant.<|im_end|>\n"
                        + "<|im_start|>user\n  What is 2 + 2?\n<|im_end|>\n"
                        + "<|im_start|>assistant\n It is 4. <|im_end|>\n");
        assertThat(template.render(WITHOUT_SYSTEM, true, "", "<|im_end|>")).isEqualTo(
                "<|im_start|>system\nYou are a helpful assistant.<|im_end|>\n"
                        + "<|im_start|>user\nHi!<|im_end|>\n"
                        + "<|im_start|>assistant\nHello. How can I help?<|im_end|>\n"
                        + "<|im_start|>user\nName a prime.<|im_end|>\n"
                        + "<|im_start|>assistant\n");
        assertThat(template.emitsBosToken()).isFalse();
    }

    @Test
    void modelsWithoutATemplateGetThePlainTranscript() {
        assertThat(ChatTemplate.fromModelMetadata(null).source()).isEqualTo(ChatTemplate.PLAIN_TRANSCRIPT);
        ChatTemplate template = ChatTemplate.fromModelMetadata("  ");

        assertThat(template.render(WITHOUT_SYSTEM, true, "<s>", "</s>"))
                .isEqualTo("user: Hi!\nassistant: Hello. How can I help?\nuser: Name a prime.\nassistant:");
        assertThat(template.render(WITH_SYSTEM, false, "<s>", "</s>"))
                .isEqualTo("system: You are a terse assistant.\nuser:   What is 2 + 2?\n\nassistant:  It is 4. \n");
        assertThat(template.emitsBosToken()).isFalse();
    }

    @Test
    void loopFirstLastTrimAndStrftimeNow() {
        String source = """
                {% for m in messages %}
                {% if loop.first %}[{{ strftime_now("%d %b %Y") }}]{% endif %}
                {{ m.content | trim }}{{ m['content'].strip() }}{% if not loop.last %},{% endif %}
                {% endfor %}
                """;
        ChatTemplate template = ChatTemplate.of(source)
                .withClock(Clock.fixed(Instant.parse("2024-07-26T10:00:00Z"), ZoneOffset.UTC));

        assertThat(template.render(List.of(ChatMessage.user(" a "), ChatMessage.user("b\n")), false, "", ""))
                .isEqualTo("[26 Jul 2024]aa,bb");
    }

    @Test
    void brokenTemplatesFailWithATypedException() {
        assertThatThrownBy(() -> ChatTemplate.of("{{ strftime_now('%Q') }}").render(WITHOUT_SYSTEM, false, "", ""))
                .isInstanceOf(ChatTemplateException.class).hasMessageContaining("%Q");
    }

    /**
     * Whitespace control on expressions and comments, a namespace, and a date guarded by
     * {@code strftime_now is defined}, as Llama 3.1-3.3's templates use them (written for this test; the
     * expected string is Python Jinja2's).
     */
    static final String TRIMMED = """
            {{- bos_token }}
            {#- the system turn, with a date when the engine has a clock -#}
            {%- if strftime_now is defined %}
                {%- set date_string = strftime_now("%d %b %Y") %}
            {%- else %}
                {%- set date_string = "26 Jul 2024" %}
            {%- endif %}
            {%- set ns = namespace(turns=0) %}
            {{- "<|start_header_id|>system<|end_header_id|>\\n\\n" }}
            {{- "Today Date: " + date_string + "\\n\\n" }}
            {{- "<|eot_id|>" }}
            {%- for message in messages %}
                {%- set ns.turns = ns.turns + 1 %}
                {{- '<|start_header_id|>' + message['role'] + '<|end_header_id|>\\n\\n' + message['content'] | trim + '<|eot_id|>' }}
            {%- endfor %}
            {%- if add_generation_prompt %}
                {{- '<|start_header_id|>assistant<|end_header_id|>\\n\\n' }}
            {%- endif %}
            {{- '[' ~ ns.turns ~ ' turns]' }}
            """;

    @Test
    void whitespaceControlOnExpressionsAndCommentsTrimsAsInJinja() {
        ChatTemplate template = ChatTemplate.of(TRIMMED)
                .withClock(Clock.fixed(Instant.parse("2025-03-09T10:00:00Z"), ZoneOffset.UTC));
        assertThat(template.render(List.of(ChatMessage.system("Be brief."), ChatMessage.user(" Hello \n")), true,
                "<|begin_of_text|>", "<|eot_id|>"))
                .isEqualTo("<|begin_of_text|><|start_header_id|>system<|end_header_id|>\n\nToday Date: 09 Mar 2025\n\n"
                        + "<|eot_id|><|start_header_id|>system<|end_header_id|>\n\nBe brief.<|eot_id|>"
                        + "<|start_header_id|>user<|end_header_id|>\n\nHello<|eot_id|>"
                        + "<|start_header_id|>assistant<|end_header_id|>\n\n[2 turns]");
    }

    @Test
    void templateSyntaxInAMessageIsTextNeverRun() {
        String content = "What is {{ 7*7 }}? {{ messages[0].content }} {% raw %} {{ raise_exception('boom') }}";
        ChatTemplate template = ChatTemplate.of("{% for m in messages %}"
                + "{{'<|im_start|>' + m['role'] + '\\n' + m['content'] + '<|im_end|>\\n'}}{% endfor %}");
        assertThat(template.render(List.of(ChatMessage.system("secret"), ChatMessage.user(content)), false, "", ""))
                .isEqualTo("<|im_start|>system\nsecret<|im_end|>\n<|im_start|>user\n" + content + "<|im_end|>\n");
    }

    @Test
    void windowsLineEndingsRenderAsJinjaReadsThem() {
        assertThat(ChatTemplate.of("{% if true %}\r\nA{% endif %}\r\nB\r\n").render(List.of(), false, "", ""))
                .isEqualTo("AB");
    }

    @Test
    void aMalformedTemplateFailsWhenLoadedNotAtTheFirstConversation() {
        assertThatThrownBy(() -> ChatTemplate.of("{% for m in messages %}{{ m.content }}"))
                .isInstanceOf(ChatTemplateException.class).hasMessageContaining("invalid chat template")
                .hasMessageContaining("endfor");
        assertThatThrownBy(() -> ChatTemplate.fromModelMetadata("x{% endif %}"))
                .isInstanceOf(ChatTemplateException.class).hasMessageContaining("invalid chat template");
    }

    @Test
    void anUnknownFilterFailsTheRenderInsteadOfDroppingText() {
        assertThatThrownBy(() -> ChatTemplate.of("a{{ 'x' | nosuch }}b").render(WITHOUT_SYSTEM, false, "", ""))
                .isInstanceOf(ChatTemplateException.class).hasMessageContaining("nosuch");
    }

    @Test
    void nullConversationsAreRefusedByName() {
        ChatTemplate template = ChatTemplate.plainTranscript();
        assertThatThrownBy(() -> template.render(null, true, "", "")).isInstanceOf(NullPointerException.class)
                .hasMessage("messages");
        java.util.List<ChatMessage> withNull = new java.util.ArrayList<>();
        withNull.add(null);
        assertThatThrownBy(() -> template.render(withNull, true, "", "")).isInstanceOf(NullPointerException.class)
                .hasMessage("a message in messages");
    }

    @Test
    void jinjaFiltersJinjavaLacksAreThere() {
        // Llama 3.3's tool branch uses `| items`; the expected string is Python Jinja2's
        assertThat(ChatTemplate.of("{% for k, v in {'a': 1, 'b': 'x'} | items %}{{ k }}={{ v }};{% endfor %}"
                + "{{ [3, 10, 2] | max }}{{ [3, 10, 2] | min }}{{ ['b', 'a'] | max }}").render(List.of(), false, "", ""))
                .isEqualTo("a=1;b=x;102b");
    }

    @Test
    void aTemplateThatOnlyMentionsBosInACommentDoesNotEmitIt() {
        assertThat(ChatTemplate.of("{# bos_token is added by the tokenizer #}{% for m in messages %}{{ m.content }}"
                + "{% endfor %}").emitsBosToken()).isFalse();
        assertThat(ChatTemplate.of("{{ bos_token }}{% for m in messages %}{{ m.content }}{% endfor %}").emitsBosToken())
                .isTrue();
    }

    @Test
    void pythonStringMethodsWorkOnText() {
        // the expected string is Python Jinja2's
        String source = "{% for m in messages %}{% if m.content.startswith('<tool') %}T"
                + "{% elif m.content.endswith(('?', '!')) %}Q{% endif %}[{{ m.content.lstrip('<').rstrip() }}|"
                + "{{ m.content.upper() }}|{{ m.content.lower() }}|{{ m.content.find('o') }}|"
                + "{{ m.content.strip('<>?! ') }}]{% endfor %}{{ '-'.join(['a', '', 'b']) }}";
        assertThat(ChatTemplate.of(source).render(List.of(ChatMessage.user("<tool_response> "),
                ChatMessage.user("Hello World!")), false, "", ""))
                .isEqualTo("T[tool_response>|<TOOL_RESPONSE> |<tool_response> |2|tool_response]"
                        + "Q[Hello World!|HELLO WORLD!|hello world!|4|Hello World]a--b");
    }

    @Test
    void pythonSplitCountTitleAndIndexingAsPythonDoesThem() {
        // the expected string is Python Jinja2's; Java's split would take '.' for a regular expression
        String source = "{{ 'a,b,,c'.split(',')|join('|') }};{{ ' a  b c '.split()|join('|') }};"
                + "{{ ' a  b c '.split(none, 1)|join('|') }};{{ ' a  b c '.rsplit(none, 1)|join('|') }};"
                + "{{ 'a,b,,c'.rsplit(',', 2)|join('|') }};{{ 'a.b'.split('.')|join('|') }};"
                + "{{ 'hello wORLD 2nd'.title() }};{{ 'hELLO'.capitalize() }};{{ 'abcabc'.count('bc') }}{{ 'abc'.count('') }};"
                + "{{ 'abc'[-1] }}{{ 'abc'[0] }}|{{ 'abc'[5] }}|";
        assertThat(ChatTemplate.of(source).render(List.of(), false, "", ""))
                .isEqualTo("a|b||c;a|b|c;a|b c ; a  b|c;a,b||c;a|b;Hello World 2Nd;Hello;24;ca||");
    }

    @Test
    void qwen3sReversedLoopAndNamespaceArgumentsParseAsInJinja() {
        // Qwen3's template finds the last user query walking messages[::-1], from a namespace whose keyword argument
        // is `messages|length - 1`; the expected string is Python Jinja2's
        String source = "{% set ns = namespace(last=messages|length - 1, found=false) %}"
                + "{% for m in messages[::-1] %}{% if not ns.found and m.content.startswith('u') %}{% set ns.found = true %}"
                + "{% set ns.last = (messages|length - 1) - loop.index0 %}{% endif %}{{ m.content }},{% endfor %}{{ ns.last }}";
        assertThat(ChatTemplate.of(source).render(List.of(ChatMessage.user("u1"), ChatMessage.assistant("a1"),
                ChatMessage.user("u2"), ChatMessage.assistant("a2")), false, "", "")).isEqualTo("a2,u2,a1,u1,2");
        assertThat(ChatTemplate.of(source).source()).contains("messages[::-1]");  // the model's text, as given
    }

    @Test
    void generationBlocksRenderTheirTextInAScopeOfTheirOwn() {
        // Hugging Face's {% generation %} (assistant masks): the text as it is; a set inside stays inside
        String source = "{% set x = 'out' %}{% for m in messages %}{% if m.role == 'assistant' %}"
                + "{% generation %}{% set x = 'in' %}[{{ m.content }}]{% endgeneration %}{% else %}{{ m.content }}{% endif %}"
                + "{% endfor %}{{ x }}";
        assertThat(ChatTemplate.of(source).render(List.of(ChatMessage.user("q"), ChatMessage.assistant("a")), false,
                "", "")).isEqualTo("q[a]out");
    }
}
