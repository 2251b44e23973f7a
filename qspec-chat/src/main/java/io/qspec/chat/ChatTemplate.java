package io.qspec.chat;

import com.hubspot.jinjava.Jinjava;
import com.hubspot.jinjava.JinjavaConfig;
import com.hubspot.jinjava.interpret.RenderResult;
import com.hubspot.jinjava.interpret.TemplateError;
import com.hubspot.jinjava.lib.fn.ELFunctionDefinition;

import java.time.Clock;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;

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
 * {@code loop.first}/{@code loop.last}, {@code |trim}, slicing and {@code .strip()} work as in Python.
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

    private final String source;
    private final Clock clock;

    private ChatTemplate(String source, Clock clock) {
        this.source = source;
        this.clock = clock;
    }

    /** The model's own template. */
    public static ChatTemplate of(String jinjaSource) {
        Objects.requireNonNull(jinjaSource, "jinjaSource");
        return new ChatTemplate(jinjaSource, Clock.systemDefaultZone());
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

    /** Whether the template prints {@code bos_token} itself (then the tokenizer must not add one). */
    public boolean emitsBosToken() {
        return source.contains("bos_token");
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
        List<Map<String, Object>> messageValues = new ArrayList<>(messages.size());
        for (ChatMessage message : messages) {
            messageValues.add(message.asTemplateValue());
        }
        Map<String, Object> variables = new HashMap<>();
        variables.put("messages", messageValues);
        variables.put("add_generation_prompt", addGenerationPrompt);
        variables.put("bos_token", bosToken == null ? "" : bosToken);
        variables.put("eos_token", eosToken == null ? "" : eosToken);

        TemplateFunctions.RenderState state = TemplateFunctions.begin(clock);
        RenderResult result;
        try {
            result = JINJAVA.renderForResult(withoutTrailingNewline(source), variables);
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
            if (error.getSeverity() == TemplateError.ErrorType.FATAL) {
                throw new ChatTemplateException("chat template failed at line " + error.getLineno() + ": "
                        + error.getMessage() + ownCause(error.getException()), error.getException());
            }
        }
        return result.getOutput();
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

    /** Jinja (keep_trailing_newline=False, as in Hugging Face) drops one newline at the end of a template. */
    private static String withoutTrailingNewline(String template) {
        if (template.endsWith("\r\n")) {
            return template.substring(0, template.length() - 2);
        }
        return template.endsWith("\n") ? template.substring(0, template.length() - 1) : template;
    }

    private static Jinjava newEngine() {
        JinjavaConfig config = JinjavaConfig.newBuilder()
                .withTrimBlocks(true)
                .withLstripBlocks(true)
                .build();
        Jinjava jinjava = new Jinjava(config);
        jinjava.getGlobalContext().registerFunction(new ELFunctionDefinition(
                "", "raise_exception", TemplateFunctions.class, "raiseException", String.class));
        jinjava.getGlobalContext().registerFunction(new ELFunctionDefinition(
                "", "strftime_now", TemplateFunctions.class, "strftimeNow", String.class));
        return jinjava;
    }
}
