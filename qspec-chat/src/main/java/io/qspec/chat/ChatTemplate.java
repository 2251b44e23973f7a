package io.qspec.chat;

import com.hubspot.jinjava.Jinjava;
import com.hubspot.jinjava.JinjavaConfig;
import com.hubspot.jinjava.LegacyOverrides;
import com.hubspot.jinjava.el.JinjavaInterpreterResolver;
import com.hubspot.jinjava.interpret.JinjavaInterpreter;
import com.hubspot.jinjava.interpret.RenderResult;
import com.hubspot.jinjava.interpret.TemplateError;
import com.hubspot.jinjava.lib.fn.ELFunctionDefinition;

import jinjava.javax.el.CompositeELResolver;
import jinjava.javax.el.ELResolver;

import java.time.Clock;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Turns a conversation into the prompt text a chat model was trained on, by running the model's
 * Hugging Face chat template (the Jinja {@code chat_template} of {@code tokenizer_config.json}, or
 * {@code tokenizer.chat_template} in GGUF) on Jinjava.
 *
 * <p>Rendered like Hugging Face's {@code apply_chat_template}: Jinja with {@code trim_blocks} and
 * {@code lstrip_blocks}, a single trailing newline of the template dropped, and the variables
 * {@code messages} (a list of {role, content} dictionaries), {@code add_generation_prompt},
 * {@code bos_token} and {@code eos_token}; the functions {@code raise_exception(msg)} (thrown as
 * {@link ChatTemplateRaisedException}) and {@code strftime_now(format)}. Jinja built-ins such as
 * {@code loop.first}/{@code loop.last}, {@code |trim}, slicing and {@code .strip()} work as in Python, and
 * whitespace control ({@code {%- -%}}, {@code {{- -}}}, {@code {#- -#}}) trims as in Jinja. Message content is
 * data: template syntax inside a message is printed as typed, never run.
 *
 * <p>Python's string methods {@code startswith}, {@code endswith}, {@code strip}/{@code lstrip}/{@code rstrip}
 * (with or without characters), {@code upper}, {@code lower}, {@code title}, {@code capitalize}, {@code find},
 * {@code count}, {@code split}/{@code rsplit} (literal separators, or whitespace) and {@code str.join} work on
 * text, and so do negative indices, {@code name[::-1]} and arithmetic in {@code namespace(...)}'s keyword
 * arguments (Qwen3's template); {@code {% generation %}} blocks render their text, as in Hugging Face. Not supported (the engine is Jinjava, not Python): other string methods,
 * other slices with a step, string repetition ({@code 'x' * 3}), {@code {% filter %}} blocks and recursive
 * loops, and an empty conversation renders where Jinja raises on {@code messages[0]}. Templates that use
 * them fail with a {@link ChatTemplateException} naming the line, or render without the unsupported piece;
 * check a new model's prompt against Hugging Face's {@code apply_chat_template} once.
 *
 * <p>Templates usually start with {@code bos_token} themselves, so encode the rendered prompt
 * without adding another BOS ({@code tokenizer.encode(prompt, false)}) unless
 * {@link #emitsBosToken()} is false.
 *
 * <p>Immutable and thread-safe.
 */
public final class ChatTemplate {
    /**
     * The fallback for models without a template: a plain transcript, one {@code role: content}
     * line per message, ending in {@code assistant:} when a reply is wanted. A model that ships no
     * template is almost always a base model; it never saw Llama 2's {@code [INST]} markers or any
     * other special format, but continues a transcript naturally. It leaves BOS to the tokenizer.
     */
    public static final String PLAIN_TRANSCRIPT = """
            {% for message in messages %}
            {{ message['role'] }}: {{ message['content'] }}
            {% endfor %}
            {% if add_generation_prompt %}assistant:{% endif %}""";

    private static final Jinjava JINJAVA = newEngine();
    /** A template's expressions and statements, its string literals, and a filter applied in them. */
    private static final Pattern TAG = Pattern.compile("\\{\\{.*?}}|\\{%.*?%}", Pattern.DOTALL);
    private static final Pattern STRING_LITERAL = Pattern.compile("'(?:[^'\\\\]|\\\\.)*'|\"(?:[^\"\\\\]|\\\\.)*\"");
    private static final Pattern FILTER_USE = Pattern.compile("\\|\\s*([A-Za-z_][A-Za-z0-9_]*)");
    /** Python's reversed slice of a name ({@code messages[::-1]}, Qwen's templates), which Jinjava cannot parse. */
    /** A call of Jinja's {@code namespace}, and one keyword argument: its name and {@code =}, then its value. */
    private static final Pattern NAMESPACE_CALL = Pattern.compile("\\bnamespace\\s*\\(");
    private static final Pattern KEYWORD_ARGUMENT = Pattern.compile("(\\s*[A-Za-z_][A-Za-z0-9_]*\\s*=)(?!=)(.*)", Pattern.DOTALL);
    private static final Pattern REVERSED_SLICE =
            Pattern.compile("([A-Za-z_][A-Za-z0-9_]*(?:\\.[A-Za-z_][A-Za-z0-9_]*)*)\\[\\s*:\\s*:\\s*-1\\s*]");

    private final String source;
    /** What Jinjava runs: {@link #source} with Python's reversed slices written as the {@code reverse} filter. */
    private final String code;
    private final Clock clock;
    /** {@link #emitsBosToken()}, found on its first call (it renders the template once). */
    private volatile Boolean emitsBos;

    private ChatTemplate(String source, Clock clock) {
        this.source = source;
        this.code = withoutTrailingNewline(runnable(source));
        this.clock = clock;
    }

    /**
     * The model's own template, parsed once here so that a malformed one fails now, not at the first
     * conversation. Line endings are normalized to {@code \n}, as Jinja does.
     *
     * @throws ChatTemplateException if the template does not parse
     */
    public static ChatTemplate of(String jinjaSource) {
        Objects.requireNonNull(jinjaSource, "jinjaSource");
        String source = jinjaSource.replace("\r\n", "\n");
        JinjavaInterpreter parser = JINJAVA.newInterpreter();
        try {
            parser.parse(withoutTrailingNewline(runnable(source)));
        } catch (RuntimeException e) {
            throw new ChatTemplateException("invalid chat template: " + e.getMessage(), e);
        }
        if (!parser.getErrors().isEmpty()) {
            TemplateError first = parser.getErrors().getFirst();
            throw new ChatTemplateException("invalid chat template at line " + first.getLineno() + ": "
                    + first.getMessage(), first.getException());
        }
        for (Matcher use = FILTER_USE.matcher(withoutStringLiterals(source)); use.find(); ) {
            // Jinja refuses an unknown filter when it compiles the template; Jinjava would print nothing there
            if (JINJAVA.getGlobalContext().getFilter(use.group(1)) == null) {
                throw new ChatTemplateException("invalid chat template: no filter named '" + use.group(1) + "'");
            }
        }
        return new ChatTemplate(source, Clock.systemDefaultZone());
    }

    /**
     * The template from model metadata, or {@link #PLAIN_TRANSCRIPT} when the model has none
     * ({@code null} or blank).
     */
    public static ChatTemplate fromModelMetadata(String templateOrNull) {
        return templateOrNull == null || templateOrNull.isBlank() ? plainTranscript() : of(templateOrNull);
    }

    /** The fallback template, {@link #PLAIN_TRANSCRIPT}. */
    public static ChatTemplate plainTranscript() {
        return of(PLAIN_TRANSCRIPT);
    }

    /** The same template with {@code strftime_now} reading {@code clock} (for reproducible prompts and tests). */
    public ChatTemplate withClock(Clock clock) {
        return new ChatTemplate(source, Objects.requireNonNull(clock, "clock"));
    }

    /** The Jinja source. */
    public String source() {
        return source;
    }

    /**
     * Whether the template prints {@code bos_token} itself (then the tokenizer must not add one): found by
     * rendering a one-message conversation with a marker for BOS, so that a mention in a comment does not
     * count. A template that refuses that conversation is judged by whether its code names {@code bos_token}.
     */
    public boolean emitsBosToken() {
        Boolean known = emitsBos;
        if (known == null) {
            String marker = "\u0000bos\u0000";
            try {
                known = render(List.of(ChatMessage.user("Hello")), true, marker, "").contains(marker);
            } catch (ChatTemplateException e) {
                known = withoutStringLiterals(source).contains("bos_token");
            }
            emitsBos = known;
        }
        return known;
    }

    /**
     * The prompt for {@code messages}.
     *
     * @param addGenerationPrompt end with the header that starts the assistant's reply
     * @param bosToken            the model's beginning-of-sequence text, e.g. {@code <|begin_of_text|>}
     * @param eosToken            the model's end-of-sequence text, e.g. {@code </s>}
     * @throws ChatTemplateRaisedException if the template rejects the conversation
     * @throws ChatTemplateException       if the template cannot be parsed or rendered
     */
    public String render(List<ChatMessage> messages, boolean addGenerationPrompt, String bosToken, String eosToken) {
        Objects.requireNonNull(messages, "messages");
        List<Map<String, Object>> messageValues = new ArrayList<>(messages.size());
        for (ChatMessage message : messages) {
            messageValues.add(Objects.requireNonNull(message, "a message in messages").asTemplateValue());
        }
        Map<String, Object> variables = new HashMap<>();
        variables.put("messages", messageValues);
        variables.put("add_generation_prompt", addGenerationPrompt);
        variables.put("bos_token", bosToken == null ? "" : bosToken);
        variables.put("eos_token", eosToken == null ? "" : eosToken);
        // templates test `strftime_now is defined` (Llama 3.2) before calling it; the calls reach the functions
        variables.put("strftime_now", "strftime_now");
        variables.put("raise_exception", "raise_exception");

        TemplateFunctions.RenderState state = TemplateFunctions.begin(clock);
        RenderResult result;
        try {
            result = JINJAVA.renderForResult(code, variables);
        } catch (ChatTemplateRaisedException e) {
            throw new ChatTemplateRaisedException(e.templateMessage());
        } catch (RuntimeException e) {
            throw new ChatTemplateException("chat template failed: " + e.getMessage(), e);
        } finally {
            TemplateFunctions.end();
        }
        if (state.raisedMessage != null) {
            throw new ChatTemplateRaisedException(state.raisedMessage);
        }
        for (TemplateError error : result.getErrors()) {
            if (isFailure(error)) {
                throw new ChatTemplateException("chat template failed at line " + error.getLineno() + ": "
                        + error.getMessage() + ownCause(error.getException()), error.getException());
            }
        }
        return result.getOutput();
    }

    /** The expressions and statements of {@code source}, with their string literals emptied (so "<|x|>" is no filter). */
    private static String withoutStringLiterals(String source) {
        StringBuilder code = new StringBuilder();
        for (Matcher tag = TAG.matcher(source); tag.find(); ) {
            code.append(STRING_LITERAL.matcher(tag.group()).replaceAll("''")).append('\n');
        }
        return code.toString();
    }

    /**
     * Whether an engine error means the prompt is wrong. Jinja would refuse to run these (an unknown
     * filter or tag, a stray end tag); Jinjava reports them beside the output it rendered without them.
     */
    private static boolean isFailure(TemplateError error) {
        return error.getSeverity() == TemplateError.ErrorType.FATAL
                || error.getReason() == TemplateError.ErrorReason.SYNTAX_ERROR
                || error.getReason() == TemplateError.ErrorReason.UNKNOWN
                || error.getReason() == TemplateError.ErrorReason.EXCEPTION;
    }

    /** The message of one of our own exceptions behind an engine error (e.g. an unsupported strftime directive). */
    private static String ownCause(Throwable exception) {
        for (Throwable t = exception; t != null; t = t.getCause()) {
            if (t instanceof ChatTemplateException own) {
                return ": " + own.getMessage();
            }
        }
        return "";
    }

    /**
     * {@code source} as Jinjava parses it the way Jinja does, inside its expressions and statements:
     * {@code name[::-1]} as {@code (name|reverse)}, and each keyword argument of {@code namespace(...)} in
     * parentheses (Jinjava reads {@code n=messages|length - 1} as {@code (n=messages|length) - 1}; Qwen3).
     */
    private static String runnable(String source) {
        return TAG.matcher(source).replaceAll(tag -> Matcher.quoteReplacement(namespaceArgumentsInParentheses(
                REVERSED_SLICE.matcher(tag.group()).replaceAll("($1|reverse)"))));
    }

    private static String namespaceArgumentsInParentheses(String tag) {
        StringBuilder out = new StringBuilder(tag.length() + 8);
        int from = 0;
        for (Matcher call = NAMESPACE_CALL.matcher(tag); call.find(from); ) {
            List<Integer> ends = argumentEnds(tag, call.end());
            if (ends.isEmpty()) {
                break;  // unbalanced: left to the parser's own error
            }
            out.append(tag, from, call.end());
            int start = call.end();
            for (int end : ends) {  // each argument, then its ',' or the closing ')'
                out.append(keywordValueInParentheses(tag.substring(start, end))).append(tag.charAt(end));
                start = end + 1;
            }
            from = start;
        }
        return out.append(tag, from, tag.length()).toString();
    }

    private static String keywordValueInParentheses(String argument) {
        Matcher keyword = KEYWORD_ARGUMENT.matcher(argument);
        return keyword.matches() && !keyword.group(2).isBlank()
                ? keyword.group(1) + "(" + keyword.group(2) + ")" : argument;
    }

    /**
     * Where the arguments of the call whose {@code (} ends just before {@code from} end: each top-level comma, then
     * the closing parenthesis; empty if the call does not close. String literals and nested brackets are skipped.
     */
    private static List<Integer> argumentEnds(String code, int from) {
        List<Integer> ends = new ArrayList<>();
        int depth = 0;
        for (int i = from; i < code.length(); i++) {
            char c = code.charAt(i);
            if (c == '\'' || c == '"') {
                i = endOfString(code, i);
            } else if (c == '(' || c == '[' || c == '{') {
                depth++;
            } else if (c == ')' || c == ']' || c == '}') {
                if (depth-- == 0) {
                    if (c == ')') {
                        ends.add(i);
                        return ends;
                    }
                    return List.of();
                }
            } else if (c == ',' && depth == 0) {
                ends.add(i);
            }
        }
        return List.of();
    }

    /** The index of the quote that closes the string literal opening at {@code open}. */
    private static int endOfString(String code, int open) {
        char quote = code.charAt(open);
        for (int i = open + 1; i < code.length(); i++) {
            if (code.charAt(i) == '\\') {
                i++;
            } else if (code.charAt(i) == quote) {
                return i;
            }
        }
        return code.length();
    }

    /** Jinja (keep_trailing_newline=False, as in Hugging Face) drops one newline at the end of a template. */
    private static String withoutTrailingNewline(String template) {
        return template.endsWith("\n") ? template.substring(0, template.length() - 1) : template;
    }

    private static ELResolver withPythonStringMethods(ELResolver jinjavas) {
        CompositeELResolver resolver = new CompositeELResolver();
        resolver.add(new PythonStringMethods());
        resolver.add(jinjavas);
        return resolver;
    }

    private static Jinjava newEngine() {
        JinjavaConfig config = JinjavaConfig.newBuilder()
                .withTrimBlocks(true)
                .withLstripBlocks(true)
                // a message is text, never template code: "{{ 7*7 }}" in a user's message stays as typed
                .withNestedInterpretationEnabled(false)
                // {{- x -}} and {#- -#} trim whitespace as in Jinja (Jinjava trims only around {%- -%} by default)
                .withLegacyOverrides(LegacyOverrides.newBuilder().withUseTrimmingForNotesAndExpressions(true).build())
                .withElResolver(withPythonStringMethods(JinjavaInterpreterResolver.DEFAULT_RESOLVER_READ_ONLY))
                .build();
        Jinjava jinjava = new Jinjava(config);
        JinjaFilters.all().forEach(jinjava.getGlobalContext()::registerFilter);
        jinjava.getGlobalContext().registerTag(new GenerationTag());
        jinjava.getGlobalContext().registerFunction(new ELFunctionDefinition(
                "", "raise_exception", TemplateFunctions.class, "raiseException", String.class));
        jinjava.getGlobalContext().registerFunction(new ELFunctionDefinition(
                "", "strftime_now", TemplateFunctions.class, "strftimeNow", String.class));
        return jinjava;
    }
}
